"""The upload box: Gradio's `gr.File` without the empty temporary file it leaves per upload.

Gradio 6.31's `gr.File(type="filepath")` opens a `NamedTemporaryFile(delete=False)` in its
cache for every file it hands to a handler, only to take its name from the upload instead: each
upload left an empty `tmp*` file behind (and an open descriptor). This box hands over the
uploaded file's path as it is, with the same file-type check. What this leaves out: deleting
the uploads once read (`ui.uploads`).
"""

from __future__ import annotations

import gradio as gr
from gradio.data_classes import FileData
from gradio.utils import NamedString
from gradio_client import utils as client_utils

from gradio.events import Dependency

class UploadBox(gr.File):
    is_template = True  # the page shows it as Gradio's own file box (see `Block.get_block_name`)

    def _process_single_file(self, f: FileData) -> NamedString | bytes:
        if self.type != "filepath":
            return super()._process_single_file(f)
        if self.file_types and not client_utils.is_valid_file(f.path, self.file_types):
            raise gr.Error(f"Invalid file type. Please upload a file that is one of these formats: {self.file_types}")
        return NamedString(f.path)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component