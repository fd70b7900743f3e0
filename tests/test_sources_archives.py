"""WARC/ARC archives and PDFs, built by the tests themselves (warcio, fpdf2): each HTML response
record is an article with its capture date as the fallback date; a PDF's offsets point into its
extracted text."""

from __future__ import annotations

import io

import pytest

from index.sources import load_sources
from index.split import split_article

from web_support import PARAGRAPHS, jsonld_page, undated_page


def write_warc(path, records: list[tuple[str, str, bytes, str]], gzip: bool = True) -> None:
    """records: (target URI, content type, body, WARC-Date)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        for uri, content_type, body, date in records:
            request = writer.create_warc_record(uri, "request", payload=io.BytesIO(
                f"GET {uri} HTTP/1.1\r\nUser-Agent: crawler\r\n\r\n".encode()), warc_headers_dict={"WARC-Date": date})
            writer.write_record(request)
            status = "404 Not Found" if uri.endswith("/gone") else "200 OK"
            headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
            record = writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=headers,
                                               warc_headers_dict={"WARC-Date": date})
            writer.write_record(record)


@pytest.mark.parametrize("name,gzip", [("crawl.warc.gz", True), ("crawl.warc", False)])
def test_each_html_response_of_a_warc_is_an_article(tmp_path, name, gzip):
    path = tmp_path / name
    write_warc(path, [
        ("https://seeblick.example/local/harbour", "text/html; charset=utf-8",
         jsonld_page("Council Approves Harbour Rebuild", "harbour", "https://seeblick.example/local/harbour-wall",
                     "2018-03-05", "Anna Keller", "Seeblick Zeitung").encode(), "2018-03-06T10:00:00Z"),
        ("https://news.example/undated", "text/html", undated_page("Schools Vaccinate", "vaccine").encode(),
         "2019-06-14T07:30:00Z"),
        ("https://news.example/logo.png", "image/png", b"\x89PNG\r\n" + b"\x00" * 40, "2019-06-14T07:30:01Z"),
        ("https://news.example/gone", "text/html", b"<html>gone</html>", "2019-06-14T07:30:02Z"),
        ("https://news.example/menu", "text/html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>",
         "2019-06-14T07:30:03Z"),
    ], gzip=gzip)
    report = load_sources([path])
    by_source = {a.source: a for a in report.articles}
    assert set(by_source) == {"https://seeblick.example/local/harbour-wall", "https://news.example/undated"}
    assert by_source["https://seeblick.example/local/harbour-wall"].published == "2018-03-05"  # the page's own
    assert by_source["https://news.example/undated"].published == "2019-06-14T07:30:00+00:00"  # capture date
    assert "120 cases" in by_source["https://news.example/undated"].text
    [(where, reason)] = report.skipped
    assert where == f"{path}#https://news.example/menu" and reason.startswith("not an article")


def test_a_file_that_is_not_a_warc_is_one_skipped_line(tmp_path):
    path = tmp_path / "broken.warc.gz"
    path.write_bytes(b"this is not an archive at all\n" * 10)
    report = load_sources([path])
    assert report.articles == [] and len(report.skipped) == 1
    assert report.skipped[0][1].startswith("not a readable WARC/ARC file")


def build_pdf(path, title: str, paragraphs: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_creation_date(__import__("datetime").datetime(2019, 6, 13, 9, 0))
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph)
        pdf.ln(4)
    pdf.output(str(path))


def test_a_pdf_is_an_article_whose_paragraphs_and_offsets_point_into_its_text(tmp_path):
    path = tmp_path / "press-release.pdf"
    build_pdf(path, "Measles Campaign In Schools", PARAGRAPHS["vaccine"] + PARAGRAPHS["harbour"])
    [article] = load_sources([path]).articles
    assert article.title == "Measles Campaign In Schools" and article.published == "2019-06-13"
    paragraphs = article.text.split("\n\n")
    # every paragraph of the document comes back whole, in order, one paragraph each
    assert paragraphs == PARAGRAPHS["vaccine"] + PARAGRAPHS["harbour"]
    for passage in split_article(article):
        assert article.text[passage.start:passage.end] == passage.text


def test_a_pdf_without_a_text_layer_or_not_a_pdf_is_skipped_with_its_reason(tmp_path):
    from fpdf import FPDF

    empty = tmp_path / "scan.pdf"
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    pdf.output(str(empty))
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"not a pdf")
    reasons = dict(load_sources([empty, fake]).skipped)
    assert reasons[str(empty)].startswith("not an article (the PDF has no text layer")
    assert reasons[str(fake)].startswith("not a readable PDF")
