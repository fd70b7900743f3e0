"""The chat's stylesheet and theme, passed to `launch()` (Gradio 6 takes them there, not in Blocks).

Only classes that `ui.render` emits are styled; the markup stays readable without this CSS
(<mark>, <blockquote>, <details> have browser defaults), so an app launched without it still works.
"""

CSS = """
.nqa-question { white-space: normal; }
.nqa-message { display: flex; flex-direction: column; gap: 0.5rem; }
.nqa-answer { font-size: 1.3rem; font-weight: 650; line-height: 1.35; }
.nqa-not-found .nqa-answer { font-size: 1.1rem; }
.nqa-resolved { font-size: 0.85rem; opacity: 0.75; font-style: italic; }
.nqa-confidence { font-size: 0.85rem; display: inline-flex; align-items: center; gap: 0.4rem; }
.nqa-confidence::before { content: ""; width: 0.6rem; height: 0.6rem; border-radius: 50%; display: inline-block; }
.nqa-confidence-high::before { background: #16a34a; }
.nqa-confidence-medium::before { background: #d97706; }
.nqa-confidence-low::before { background: #dc2626; }
.nqa-quote {
  margin: 0; padding: 0.6rem 0.9rem; border-left: 4px solid #f59e0b;
  background: rgba(245, 158, 11, 0.07); border-radius: 0 6px 6px 0; line-height: 1.5;
}
.nqa-quote mark.nqa-span {
  background: #fde68a; color: #111827; padding: 0.05rem 0.15rem; border-radius: 3px; font-weight: 600;
}
.nqa-citation { font-size: 0.9rem; opacity: 0.85; }
.nqa-citation cite, .nqa-passage-head cite { font-style: italic; }
.nqa-sources summary { cursor: pointer; font-size: 0.9rem; font-weight: 600; }
.nqa-passages { margin: 0.4rem 0 0 1.1rem; padding: 0; }
.nqa-passage { margin-bottom: 0.5rem; }
.nqa-passage-head { font-size: 0.85rem; opacity: 0.85; }
.nqa-passage-text { font-size: 0.9rem; line-height: 1.45; }
.nqa-score { font-variant-numeric: tabular-nums; opacity: 0.8; }
.nqa-error { color: #b91c1c; }
.nqa-pending { opacity: 0.7; font-style: italic; }
.nqa-note { opacity: 0.75; font-size: 0.9rem; }
.nqa-status { list-style: none; margin: 0.3rem 0; padding: 0; font-size: 0.9rem; }
.nqa-status-ok::before { content: "✓ "; color: #16a34a; }
.nqa-status-error { color: #b91c1c; }
.nqa-status-error::before { content: "✗ "; }
.nqa-articles ol { margin: 0.3rem 0 0 1.2rem; padding: 0; font-size: 0.9rem; }
.nqa-articles-count { font-weight: 600; }
.nqa-article-meta { opacity: 0.7; font-size: 0.8rem; }
"""

THEME = "soft"
