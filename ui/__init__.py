"""The Gradio chat front end over `qa.Assistant` (see `ui.app`).

Importing this package imports nothing heavy; `ui.app` pulls in Gradio, and `ui.app.serve`
the models. No retrieval or reading happens here.
"""
