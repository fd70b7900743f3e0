"""pypdf or pdfplumber for PDF text: which gives the article's words and paragraphs back best?

Builds PDFs (fpdf2) from real paragraphs (SQuAD v2.0 train articles, ../shared/data/train) in three
layouts: one column, two columns, and one justified column with a running header and page numbers;
extracts each with both libraries, turns the text into paragraphs the way `index.archives` does,
and scores against the paragraphs that went in:

- words: difflib ratio of the word sequences (1.0: every word back, in order);
- chars: difflib ratio of the whitespace-normalised texts;
- paragraphs: share of the source paragraphs that come back exactly as one paragraph;
- boilerplate: share of documents whose running header / page number lines leak into the text;
- seconds per page.

    python benchmarks/pdf_extractors.py [--articles 12] [--out benchmarks/results/pdf_extractors.json]
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.archives import drop_running_lines, pdf_paragraphs  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "train" / "squad-v2.0-train.json"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LAYOUTS = ("one_column", "two_columns", "header_footer")


def articles(n: int) -> list[tuple[str, list[str]]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))["data"]
    out = []
    for entry in data[: n * 5 : 5]:  # spread over the set
        paragraphs = [p["context"].strip() for p in entry["paragraphs"][:6]]
        out.append((entry["title"].replace("_", " "), paragraphs))
    return out


def build(title: str, paragraphs: list[str], layout: str) -> bytes:
    from fpdf import FPDF

    class Doc(FPDF):
        def header(self):
            if layout == "header_footer":
                self.set_font(family, size=8)
                self.cell(0, 5, "Press office - for immediate release", align="R")
                self.ln(8)

        def footer(self):
            if layout == "header_footer":
                self.set_y(-12)
                self.set_font(family, size=8)
                self.cell(0, 5, f"Page {self.page_no()}", align="C")

    pdf = Doc()
    if FONT.exists():
        pdf.add_font("body", fname=str(FONT))
        family = "body"
    else:
        family = "helvetica"
        paragraphs = [p.encode("latin-1", "replace").decode("latin-1") for p in paragraphs]
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font(family, size=10)
    if layout == "two_columns":
        with pdf.text_columns(ncols=2, gutter=8, text_align="LEFT") as columns:
            for paragraph in paragraphs:
                columns.write(text=paragraph)
                columns.ln()
                columns.ln()
    else:
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5, paragraph, align="J" if layout == "header_footer" else "L")
            pdf.ln(3)
    return bytes(pdf.output())


def extract_pypdf(data: bytes) -> list:
    """Lines with their heights, as `index.archives` reads them."""
    from pypdf import PdfReader

    from index.archives import page_lines

    return [page_lines(page) for page in PdfReader(io.BytesIO(data)).pages]


def extract_pdfplumber(data: bytes) -> list:
    """Lines with their heights, from pdfplumber's own line grouping."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = []
        for page in pdf.pages:
            lines = page.extract_text_lines(return_chars=False)
            pages.append([(float(page.height) - float(line["bottom"]), line["text"]) for line in lines])
        return pages


EXTRACTORS = {"pypdf": extract_pypdf, "pdfplumber": extract_pdfplumber}


def score(paragraphs: list[str], pages: list[str]) -> dict:
    text = "\n\n".join(p for p in (pdf_paragraphs(page) for page in drop_running_lines(pages)) if p)
    got = [" ".join(p.split()) for p in text.split("\n\n")]
    gold = [" ".join(p.split()) for p in paragraphs]
    body = " ".join(gold)
    return {"words": difflib.SequenceMatcher(None, body.split(), " ".join(got).split(), autojunk=False).ratio(),
            "chars": difflib.SequenceMatcher(None, body, " ".join(got), autojunk=False).ratio(),
            "paragraphs": sum(p in set(got) for p in gold) / len(gold),
            "boilerplate": any("Press office" in p or p.startswith("Page ") for p in got)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=12)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pdf_extractors.json")
    args = parser.parse_args()
    docs = articles(args.articles)
    results = {name: {layout: [] for layout in LAYOUTS} for name in EXTRACTORS}
    timing = {name: [0.0, 0] for name in EXTRACTORS}
    for title, paragraphs in docs:
        for layout in LAYOUTS:
            data = build(title, paragraphs, layout)
            for name, extract in EXTRACTORS.items():
                started = time.perf_counter()
                pages = extract(data)
                timing[name][0] += time.perf_counter() - started
                timing[name][1] += len(pages)
                results[name][layout].append(score(paragraphs, pages))
    summary = {}
    print(f"{'extractor':<11} {'layout':<14} {'words':>6} {'chars':>6} {'paras':>6} {'boilerplate':>11}")
    for name in EXTRACTORS:
        summary[name] = {"seconds_per_page": timing[name][0] / max(timing[name][1], 1)}
        for layout in LAYOUTS:
            rows = results[name][layout]
            mean = {k: sum(float(r[k]) for r in rows) / len(rows) for k in ("words", "chars", "paragraphs", "boilerplate")}
            summary[name][layout] = {k: round(v, 4) for k, v in mean.items()}
            print(f"{name:<11} {layout:<14} {mean['words']:6.3f} {mean['chars']:6.3f} {mean['paragraphs']:6.3f} "
                  f"{mean['boilerplate']:11.2f}")
        print(f"{name:<11} {'s/page':<14} {summary[name]['seconds_per_page']:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"documents": len(docs), "layouts": LAYOUTS, "source": str(DATA.name),
                                    "font": FONT.name if FONT.exists() else "helvetica", "results": summary},
                                   indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
