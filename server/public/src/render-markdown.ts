import DOMPurify, { type Config } from "dompurify";
import { Marked } from "marked";

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

/**
 * Raw HTML in an answer (from the model, or quoted from a document) is shown as text, never parsed: only the markup
 * marked itself generates reaches a parser. (Chromium even logs CSP errors for handlers it merely parses.)
 */
const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html: ({ text, block }) => (block ? `<p>${escapeHtml(text.trim()).replace(/\n/g, "<br>")}</p>\n` : escapeHtml(text)),
  },
});

/**
 * What survives sanitising: plain HTML only (no SVG/MathML), no styles, forms, frames, plugins or media, and no
 * attributes that could restyle the page, clobber its ids or fetch something.
 */
const PURIFY: Config = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    "style",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "option",
    "iframe",
    "frame",
    "object",
    "embed",
    "svg",
    "math",
    "audio",
    "video",
    "source",
    "track",
    "picture",
    "map",
    "area",
    "link",
    "meta",
    "base",
    "dialog",
    "template",
  ],
  FORBID_ATTR: [
    "style",
    "id",
    "name",
    "class",
    "srcset",
    "sizes",
    "poster",
    "background",
    "action",
    "formaction",
    "ping",
    "tabindex",
    "autofocus",
    "accesskey",
    "usemap",
    "target",
  ],
  ALLOW_DATA_ATTR: false,
};

const SAFE_HREF = /^(?:https?:|mailto:)/i;
const LINK_REL = "noopener noreferrer nofollow";

/**
 * Links keep only http(s)/mailto targets and open in a new tab without referrer or opener; any other link becomes
 * its plain text.
 */
function fixLinks(root: DocumentFragment): void {
  for (const a of root.querySelectorAll("a")) {
    const href = (a.getAttribute("href") ?? "").trim();
    if (!SAFE_HREF.test(href)) {
      const span = root.ownerDocument.createElement("span");
      span.append(...a.childNodes);
      a.replaceWith(span);
      continue;
    }
    a.setAttribute("rel", LINK_REL);
    a.setAttribute("target", "_blank");
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Images are never loaded automatically (a remote image is a tracking beacon): each becomes a link that opens it in
 * a new tab, saying which host it comes from; anything that is not an http(s) image becomes its alt text.
 */
function replaceImages(root: DocumentFragment): void {
  const doc = root.ownerDocument;
  for (const img of root.querySelectorAll("img")) {
    const src = (img.getAttribute("src") ?? "").trim();
    const alt = (img.getAttribute("alt") ?? "").trim();
    const host = /^https?:/i.test(src) ? hostOf(src) : undefined;
    let replacement: HTMLElement;
    if (host) {
      replacement = doc.createElement("a");
      replacement.setAttribute("href", src);
      replacement.setAttribute("rel", LINK_REL);
      replacement.setAttribute("target", "_blank");
      replacement.textContent = `Image from ${host}${alt ? `: ${alt}` : ""} ↗`;
    } else {
      replacement = doc.createElement("span");
      replacement.textContent = `[image${alt ? `: ${alt}` : ""}]`;
    }
    replacement.className = "img-placeholder";
    img.replaceWith(replacement);
  }
}

/**
 * Markdown → sanitised DOM. The HTML from marked (with raw HTML escaped) still goes through DOMPurify, then into an
 * inert <template> (nothing in it loads or runs) where links and images are fixed, before any of it reaches the page.
 */
export function renderMarkdown(text: string): DocumentFragment {
  const html = marked.parse(text) as string;
  const clean = DOMPurify.sanitize(html, { ...PURIFY, RETURN_DOM: false, RETURN_DOM_FRAGMENT: false }) as unknown as string;
  const template = document.createElement("template");
  template.innerHTML = clean;
  const fragment = template.content;
  replaceImages(fragment);
  fixLinks(fragment);
  return fragment;
}
