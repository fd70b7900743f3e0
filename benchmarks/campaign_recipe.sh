# The reader campaign's recipe as its scripts pass it to `python -m qa.reader.training.train`: a state
# is resumed or exported only with the recipe it was trained with. Sourced, not run.
CAMPAIGN_RECIPE=(--base mpnet --lora-rank 16 --keep-layers 8 --max-length 256 --stride-tokens 96
                 --batch-size 16 --learning-rate 3e-4 --max-examples 254040)
