"""The page's JavaScript: clicks on buttons inside rendered HTML, copying, scrolling, export.

Chat messages and the article list are HTML strings (`ui.render`, `ui.panels`), so their buttons
are not Gradio components. Two invisible `gr.HTML` components ("bridges") install one
document-level click listener each and pass a click on to the server as their own `click`
event, with the target as event data: opening an article, and deleting one (after the user
confirms). Everything else here runs only in the browser and sends nothing to the server.
"""

# js_on_load of the opening bridge: `trigger` is the bridge's own event dispatcher. The listener
# replaces any earlier one, so a re-rendered bridge never opens an article twice.
OPENER_JS = """
const onClick = (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const open = target.closest('button.nqa-open');
  if (open) {
    event.preventDefault();
    event.stopPropagation();
    let where;
    try { where = JSON.parse(open.value); } catch (e) { return; }
    // focus goes back here when the panel closes (`FOCUS_OPENER_JS`)
    if (!open.closest('#nqa-source')) window.nqaOpenedFrom = open;
    if (where && typeof where.article === 'string') trigger('click', where);
    return;
  }
  const copy = target.closest('button.nqa-copy');
  if (copy) {
    event.preventDefault();
    event.stopPropagation();
    window.nqaCopy(copy);
  }
};
const onKey = (event) => {
  if (event.key !== 'Escape') return;
  const close = document.querySelector('#nqa-source-close');
  if (close && close.getClientRects().length) close.click();
};
window.nqaCopy = (button) => {
  const text = button.value;
  const done = (ok) => {
    button.textContent = ok ? 'Copied' : 'Copy failed';
    button.dataset.copied = ok ? text : '';
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
  };
  const fallback = () => {
    // navigator.clipboard needs a secure context (https or localhost); a plain-http server
    // elsewhere still gets the older copy command.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    area.remove();
    done(ok);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(() => done(true), fallback);
  } else {
    fallback();
  }
};
if (window.nqaOpenListener) document.removeEventListener('click', window.nqaOpenListener, true);
if (window.nqaKeyListener) document.removeEventListener('keydown', window.nqaKeyListener, true);
window.nqaOpenListener = onClick;
window.nqaKeyListener = onKey;
document.addEventListener('click', onClick, true);
document.addEventListener('keydown', onKey, true);
"""

# js_on_load of the deleting bridge: deleting is for everyone and cannot be undone, so the
# browser asks first.
DELETER_JS = """
const onDelete = (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const button = target && target.closest('button.nqa-delete');
  if (!button) return;
  event.preventDefault();
  event.stopPropagation();
  const title = button.dataset.title || 'this article';
  if (window.confirm('Delete \u201c' + title + '\u201d for everyone using this server? This cannot be undone.')) {
    trigger('click', {article: button.value});
  }
};
if (window.nqaDeleteListener) document.removeEventListener('click', window.nqaDeleteListener, true);
window.nqaDeleteListener = onDelete;
document.addEventListener('click', onDelete, true);
"""

# After the side panel shows an article: bring the cited words (or paragraph) into view. The
# panel may still be rendering, so this looks again for a few frames.
SCROLL_TO_CITED_JS = """
() => {
  let tries = 0;
  const scroll = () => {
    const panel = document.querySelector('#nqa-source-panel');
    const doc = document.querySelector('#nqa-source .nqa-source-doc');
    if (panel && doc) {
      const target = doc.querySelector('mark.nqa-span') || doc.querySelector('.nqa-cited');
      if (target) {
        // Only the panel scrolls; scrollIntoView would move the page behind it too.
        const offset = target.getBoundingClientRect().top - panel.getBoundingClientRect().top;
        panel.scrollTop += offset - panel.clientHeight / 2 + target.offsetHeight / 2;
      } else {
        panel.scrollTop = 0;
      }
    }
    if (++tries < 8) setTimeout(scroll, 60);
    // Focus moves into the panel, to the article's heading, so that a keyboard or screen
    // reader user is where the article is (Escape or "Close" bring them back).
    const heading = document.querySelector('#nqa-source .nqa-source-title');
    if (heading && tries === 1) heading.focus({preventScroll: true});
  };
  scroll();
}
"""

# After the panel closes: back to the button that opened it, instead of the page's body.
# An opener that is gone (a re-rendered list) leaves the focus on the question box.
FOCUS_OPENER_JS = """
() => {
  const opener = window.nqaOpenedFrom;
  window.nqaOpenedFrom = null;
  const target = opener && opener.isConnected ? opener : document.querySelector('#nqa-question textarea');
  if (target) target.focus({preventScroll: false});
}
"""

# After a reply: the page scrolls (as little as it must, and as high as it can) so that the chat
# with the newest reply and the question box under it are in the window. Otherwise a reply could
# land out of sight: after "Clear chat" low on a tall page, or on a phone whose examples (hidden
# once there is a conversation) had pushed the box down.
SHOW_REPLY_JS = """
() => {
  const show = () => {
    const row = document.querySelector('#nqa-input-row');
    const messages = document.querySelectorAll('#nqa-chat .nqa-message');
    const last = messages[messages.length - 1];
    if (!row || !last) return;
    const bottom = row.getBoundingClientRect().bottom + window.scrollY;
    window.scrollTo(0, Math.max(0, bottom - window.innerHeight + 8));
    const r = last.getBoundingClientRect();
    if (!(r.bottom > 0 && r.top < window.innerHeight)) last.scrollIntoView({block: 'nearest'});
  };
  show();
  setTimeout(show, 150);  // the chat may still be laying the reply out
}
"""

# On load the question box takes the focus only where it is already in the window (a desktop): a
# focus further down would scroll a phone's page past what is loaded and the examples (and open
# its keyboard over them).
FOCUS_QUESTION_ON_LOAD_JS = """
() => {
  const box = document.querySelector('#nqa-question textarea');
  if (box && box.getBoundingClientRect().bottom <= window.innerHeight) box.focus({preventScroll: true});
}
"""

FOCUS_QUESTION_JS = """
() => {
  const box = document.querySelector('#nqa-question textarea');
  if (box) box.focus();
}
"""

# The export button: the kept conversation (each exchange already as Markdown) as a file,
# made in the browser, so no copy of the conversation is ever written on the server.
EXPORT_JS = """
(conversation) => {
  const exchanges = Array.isArray(conversation) ? conversation : [];
  const body = exchanges.length ? exchanges.map((e) => e.markdown).join('\\n---\\n\\n') : '(No questions yet.)\\n';
  const text = '# News QA conversation\\n\\n' + body;
  const url = URL.createObjectURL(new Blob([text], {type: 'text/markdown;charset=utf-8'}));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'newsqa-conversation-' + new Date().toISOString().slice(0, 10) + '.md';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return [];
}
"""


def upload_check_js(max_bytes: int) -> str:
    """Names files over the size limit right by the drop zone, as soon as they are chosen or
    dropped. The browser refuses them before sending (Gradio's `max_file_size`) and says so
    in a notice at the top of the page; this says it where the user is looking. Only the
    files' names appear: the browser knows nothing else of where they lie."""
    return """
const MAX_BYTES = %d;
const tooBig = (files) => Array.from(files || []).filter((f) => f.size > MAX_BYTES).map((f) => f.name);
const showSizeNote = (names) => {
  const zone = document.querySelector('#nqa-upload');
  if (!zone) return;
  let note = document.querySelector('#nqa-upload-size-note');
  if (!note) {
    note = document.createElement('div');
    note.id = 'nqa-upload-size-note';
    note.className = 'nqa-status nqa-status-error';
    note.setAttribute('role', 'alert');
    zone.after(note);
  }
  // an empty note is hidden: its "✗" alone would read as an error after every good upload
  note.hidden = !names.length;
  note.textContent = names.length
    ? names.join(', ') + (names.length === 1 ? ' is' : ' are') + ' over the %d MB limit per file and ' +
      (names.length === 1 ? 'was' : 'were') + ' not added.'
    : '';
};
const onChoose = (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.type === 'file' && input.closest('#nqa-upload')) {
    showSizeNote(tooBig(input.files));
  }
};
const onDrop = (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (target && target.closest('#nqa-upload') && event.dataTransfer) showSizeNote(tooBig(event.dataTransfer.files));
};
if (window.nqaChooseListener) document.removeEventListener('change', window.nqaChooseListener, true);
if (window.nqaDropListener) document.removeEventListener('drop', window.nqaDropListener, true);
window.nqaChooseListener = onChoose;
window.nqaDropListener = onDrop;
document.addEventListener('change', onChoose, true);
document.addEventListener('drop', onDrop, true);
""" % (max_bytes, max_bytes // (1024 * 1024))
