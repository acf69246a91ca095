/** Plain error pages (404, 403, 500, ...): a title, one sentence, a way back. No details of the cause. */
import { html, type SafeHtml } from "./html.js";
import { layout, type Viewer } from "./layout.js";

export function errorPage(title: string, sentence: string, viewer?: Viewer): SafeHtml {
  return layout(title, html`<section class="card narrow error">
  <h1>${title}</h1>
  <p>${sentence}</p>
  <p><a href="/">Back to the inbox</a></p>
</section>`, viewer);
}
