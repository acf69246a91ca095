/**
 * Mail HTML made safe to show: sanitize-html with an allow-list of formatting tags and
 * attributes, links only to http(s)/mailto/tel (opening in a new tab, no referrer), inline
 * styles only for layout properties and never with url(), expression() or escapes, no
 * scripts, forms, frames, SVG, MathML, <style>, <link>, <meta> or <base>. Images: data: URIs
 * (mailparser turns cid: parts into them) always; remote https: images only when the user has
 * asked, otherwise their src is dropped and counted. This is the first wall; the second is the
 * sandboxed iframe and the frame document's CSP (see frame-document.ts).
 */
import { createRequire } from "node:module";
import type sanitizeHtmlType from "sanitize-html";

// loaded at the first HTML message shown, not with the process (it brings postcss and htmlparser2)
const require = createRequire(import.meta.url);
let loaded: typeof sanitizeHtmlType | undefined;
const sanitizeHtml = (...args: Parameters<typeof sanitizeHtmlType>) => (loaded ??= require("sanitize-html") as typeof sanitizeHtmlType)(...args);

export interface SanitizedHtml { html: string; blockedImages: number }

const TAGS = [
  "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite", "code", "col",
  "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4",
  "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "s", "samp", "section",
  "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u",
  "ul", "var", "wbr",
];

const DROP_WITH_CONTENT = ["script", "style", "textarea", "option", "select", "noscript", "title", "head", "svg", "math", "template",
  "iframe", "frame", "frameset", "object", "embed", "applet", "xmp", "noembed", "noframes", "button", "canvas", "audio", "video"];

/** A CSS value with nothing that loads, runs or escapes: no url(), expression(), image(), no backslashes or braces. */
const SAFE_VALUE = /^(?![\s\S]*(?:url|expression|image|image-set|cross-fade|element|var|env|attr)\s*\()(?![\s\S]*(?:javascript|vbscript|behavior|binding|@import))[^<>\\{};]{0,200}$/i;

const STYLE_PROPS = [
  "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight", "font-variant", "line-height",
  "letter-spacing", "word-spacing", "text-align", "text-decoration", "text-transform", "text-indent", "vertical-align", "white-space",
  "word-break", "word-wrap", "overflow-wrap", "direction", "width", "height", "max-width", "min-width", "max-height", "min-height",
  "margin", "margin-top", "margin-right", "margin-bottom", "margin-left", "padding", "padding-top", "padding-right", "padding-bottom",
  "padding-left", "border", "border-top", "border-right", "border-bottom", "border-left", "border-color", "border-style", "border-width",
  "border-collapse", "border-spacing", "border-radius", "display", "list-style-type", "table-layout", "float", "clear", "text-overflow",
  "overflow",
];

export function sanitizeMailHtml(input: string, opts: { remoteImages: boolean }): SanitizedHtml {
  let blockedImages = 0;
  const html = sanitizeHtml(input, {
    allowedTags: TAGS,
    allowedAttributes: {
      "*": ["id", "style", "title", "dir", "lang", "align", "valign", "width", "height", "bgcolor"],
      a: ["href", "name", "target", "rel"],
      img: ["src", "alt"],
      td: ["colspan", "rowspan", "nowrap"],
      th: ["colspan", "rowspan", "nowrap", "scope"],
      table: ["border", "cellpadding", "cellspacing"],
      font: ["face", "size", "color"],
      ol: ["start", "type"],
      li: ["value"],
      col: ["span"],
      colgroup: ["span"],
      time: ["datetime"],
    },
    allowedSchemes: ["http", "https", "mailto", "tel"],
    allowedSchemesByTag: { img: opts.remoteImages ? ["data", "https"] : ["data"] },
    allowedSchemesAppliedToAttributes: ["href", "src", "cite"],
    allowProtocolRelative: false,
    allowedStyles: { "*": Object.fromEntries(STYLE_PROPS.map((p) => [p, [SAFE_VALUE]])) },
    disallowedTagsMode: "discard",
    nonTextTags: DROP_WITH_CONTENT,
    transformTags: {
      a: (tagName, attribs) => {
        const href = attribs.href ?? "";
        const ok = /^(https?:|mailto:|tel:|#)/i.test(href.trim());
        const { href: _drop, target: _t, rel: _r, ...rest } = attribs;
        const out: Record<string, string> = { ...rest, ...(ok ? { href } : {}) };
        if (ok && !href.startsWith("#")) { out.target = "_blank"; out.rel = "noopener noreferrer nofollow"; }
        return { tagName, attribs: out };
      },
      img: (tagName, attribs) => {
        const src = (attribs.src ?? "").trim();
        const out = { ...attribs };
        if (/^data:image\//i.test(src)) return { tagName, attribs: out };
        delete out.src;
        if (/^https?:/i.test(src) || src.startsWith("//")) {
          if (opts.remoteImages && /^https:/i.test(src)) out.src = src;
          else blockedImages++;
        }
        if (!out.alt) out.alt = "";
        return { tagName, attribs: out };
      },
    },
  });
  return { html, blockedImages };
}
