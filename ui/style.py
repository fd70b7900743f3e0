"""The chat's stylesheet and theme, passed to `launch()` (Gradio 6 takes them there, not in Blocks).

Only classes that `ui.render` and `ui.panels` emit, and the app's own element ids, are styled;
the markup stays readable without this CSS (<mark>, <blockquote>, <details> have browser
defaults), so an app launched without it still works.
"""

CSS = """
/* Messages */
.nqa-question { white-space: normal; }
.nqa-message { display: flex; flex-direction: column; gap: 0.5rem; }
.nqa-answer { font-size: 1.3rem; font-weight: 650; line-height: 1.35; }
.nqa-not-found .nqa-answer, .nqa-clarify .nqa-answer { font-size: 1.1rem; }
.nqa-resolved, .nqa-scope-note { font-size: 0.85rem; font-style: italic; }
.nqa-confidence { font-size: 0.85rem; display: inline-flex; align-items: center; gap: 0.4rem; }
.nqa-confidence::before { content: ""; width: 0.6rem; height: 0.6rem; border-radius: 50%; display: inline-block; }
.nqa-confidence-high::before { background: #16a34a; }
.nqa-confidence-medium::before { background: #d97706; }
.nqa-confidence-low::before { background: #dc2626; }
.nqa-quote {
  margin: 0; padding: 0.6rem 0.9rem; border-left: 4px solid #f59e0b;
  background: rgba(245, 158, 11, 0.07); border-radius: 0 6px 6px 0; line-height: 1.5;
}
mark.nqa-span {
  background: #fde68a; color: #111827; padding: 0.05rem 0.15rem; border-radius: 3px; font-weight: 600;
}
.nqa-candidate { display: flex; flex-direction: column; gap: 0.4rem; }
.nqa-candidate-quote { border-left: 4px dashed #9ca3af; background: rgba(156, 163, 175, 0.08); }
mark.nqa-candidate-span {
  background: transparent; color: inherit; border-bottom: 2px dashed #d97706; padding: 0 0.1rem;
}
.nqa-unconfirmed {
  display: inline-block; font-size: 0.75rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em;
  color: #92400e; background: #fef3c7; border: 1px solid #f59e0b; border-radius: 4px; padding: 0 0.35rem;
}
.nqa-candidate-odds { font-size: 0.85rem; }
.nqa-citation { font-size: 0.9rem; opacity: 0.9; }
.nqa-citation cite, .nqa-passage-head cite { font-style: italic; }
/* Buttons inside rendered HTML look like links: they open the article at that place. */
button.nqa-open {
  background: none; border: none; padding: 0; margin: 0; font: inherit; color: var(--link-text-color, #2563eb);
  text-decoration: underline; text-underline-offset: 2px; cursor: pointer; text-align: left;
}
button.nqa-open:hover { text-decoration-thickness: 2px; }
button.nqa-open:focus-visible, button.nqa-copy:focus-visible, button.nqa-delete:focus-visible {
  outline: 2px solid #2563eb; outline-offset: 2px;
}
.nqa-actions { display: flex; gap: 0.5rem; }
button.nqa-copy, button.nqa-delete {
  font: inherit; font-size: 0.8rem; padding: 0.1rem 0.6rem; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary, #d1d5db); background: var(--background-fill-secondary, #f9fafb);
  color: inherit;
}
button.nqa-delete { color: #b91c1c; margin-left: 0.3rem; }
.dark button.nqa-delete, .dark .nqa-error, .dark .nqa-status-error, .dark .nqa-question-problem { color: #fca5a5; }
.dark .nqa-unconfirmed { color: #fde68a; background: #422006; }
.nqa-sources summary, .nqa-scores summary { cursor: pointer; font-size: 0.9rem; font-weight: 600; }
.nqa-scores summary { font-weight: 500; }
.nqa-passages { margin: 0.4rem 0 0 1.1rem; padding: 0; }
.nqa-support-list { margin: 0.3rem 0 0.3rem 1.2rem; padding: 0; }
.nqa-byline { }
.nqa-conflict { margin-top: 0.35rem; }
.nqa-older { font-style: italic; }
.nqa-passage { margin-bottom: 0.5rem; }
.nqa-passage-head { font-size: 0.85rem; }
.nqa-passage-text { font-size: 0.9rem; line-height: 1.45; }
.nqa-score-list { font-size: 0.8rem; font-variant-numeric: tabular-nums; margin: 0.2rem 0 0 1rem; }
.nqa-error { color: #b91c1c; }
.nqa-pending { font-style: italic; }
.nqa-note, .nqa-small, .nqa-small p { font-size: 0.85rem; }

/* The question box, its note, the scope controls */
.nqa-question-note { font-size: 0.8rem; margin: -0.3rem 0 -0.5rem 0.2rem; }
.nqa-question-problem { color: #b91c1c; opacity: 1; font-weight: 600; }
.nqa-scope-summary { font-size: 0.85rem; }

/* Status lines and the article list */
.nqa-status { list-style: none; margin: 0.3rem 0; padding: 0; font-size: 0.9rem; }
.nqa-status-ok::before { content: "✓ "; color: #16a34a; }
.nqa-status-error { color: #b91c1c; }
.nqa-status-error::before { content: "✗ "; }
.nqa-articles ol { margin: 0.3rem 0 0 1.2rem; padding: 0; font-size: 0.9rem; }
.nqa-article { margin-bottom: 0.35rem; }
.nqa-articles-count { font-weight: 600; }
.nqa-article-meta { font-size: 0.8rem; }

/* The opened article: a side panel over the page; the whole screen on a phone */
#nqa-source-panel {
  position: fixed; top: 0; right: 0; bottom: 0; width: min(560px, 100vw); z-index: 1000;
  overflow-y: auto; padding: 0.75rem 1rem 2rem; gap: 0.5rem;
  background: var(--background-fill-primary, #fff); box-shadow: -6px 0 24px rgba(0, 0, 0, 0.18);
}
#nqa-source-bar { position: sticky; top: -0.75rem; z-index: 1; background: var(--background-fill-primary, #fff);
  align-items: center; flex-wrap: nowrap; }
.nqa-source-label { font-weight: 600; }
.nqa-source-title { font-size: 1.25rem; margin: 0 0 0.3rem; line-height: 1.3; }
.nqa-source-meta { font-size: 0.85rem; margin-bottom: 0.4rem; }
.nqa-source-note { font-size: 0.85rem; margin-bottom: 0.5rem; }
.nqa-para { line-height: 1.55; margin: 0 0 0.8rem; padding: 0.2rem 0.4rem; border-radius: 4px; }
.nqa-para-num { font-size: 0.75rem; margin-right: 0.3rem; font-variant-numeric: tabular-nums; }
.nqa-para.nqa-cited { background: rgba(245, 158, 11, 0.08); box-shadow: inset 3px 0 0 #f59e0b; }

/* The first screen: what is loaded, above the examples and the chat */
#nqa-intro h1 { margin-bottom: 0.2rem; }
#nqa-intro p { margin: 0; }
.nqa-loaded { font-size: 0.95rem; }
.nqa-loaded button.nqa-open { display: inline; }

/* The bridges carry clicks to the server and show nothing. */
.nqa-bridge { display: none !important; }

/* Gradio's "scroll down" arrow sits over the last message's text; new answers scroll into view anyway. */
#nqa-chat .scroll-down-button-container { display: none !important; }

@media (max-width: 640px) {
  #nqa-intro p { font-size: 0.85rem; margin: 0.2rem 0 0; }
  #nqa-intro h1 { font-size: 1.2rem; margin: 0; }
  .nqa-loaded { font-size: 0.85rem; line-height: 1.3; }
  #nqa-source-panel { width: 100vw; box-shadow: none; }
  .nqa-answer { font-size: 1.15rem; }
}
"""


def _theme():
    """Gradio's "soft" theme with text dark enough to read: its indigo-500 labels, links and
    primary button measured 3.3-4.5:1 (axe-core); a shade darker (lighter on dark) is over 4.5:1."""
    import gradio as gr

    return gr.themes.Soft().set(
        button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700", button_primary_background_fill_hover_dark="*primary_800",
        block_label_text_color="*primary_800", block_title_text_color="*primary_800",
        block_label_text_color_dark="*primary_200", block_title_text_color_dark="*primary_50",
        block_title_background_fill_dark="*primary_800",
        link_text_color="*primary_700", link_text_color_hover="*primary_800", link_text_color_visited="*primary_700",
        link_text_color_dark="*primary_300", link_text_color_hover_dark="*primary_200",
        link_text_color_visited_dark="*primary_300",
    )


THEME = _theme()

# Gradio scopes `CSS` to the app's content; the page's own side margins lie outside it, so they
# are set in <head>. On a phone the width goes to the messages, not to margins.
HEAD = """<style>
/* Dark mode's scrollbars (the chat's was a white strip beside it) follow the page's colours. */
.dark { color-scheme: dark; }
footer .show-api, footer a, footer button { color: #4b5563 !important; }
.dark footer .show-api, .dark footer a, .dark footer button { color: #d1d5db !important; }
@media (max-width: 640px) {
  .gradio-container .main.app { padding-left: 6px !important; padding-right: 6px !important; }
  /* A phone's first screen introduces the chat and offers examples; once there is a conversation,
     the chat takes their room, so the newest reply and the question box share one screen. */
  .gradio-container:has(#nqa-chat .nqa-question) #nqa-intro p,
  .gradio-container:has(#nqa-chat .nqa-question) #nqa-examples { display: none !important; }
  .gradio-container:has(#nqa-chat .nqa-question) #nqa-chat { height: calc(100dvh - 320px) !important; }
}
</style>"""
