import { decodeUtf8, type Loader, titleFromSource } from "../document.ts";
import { normalizeText, tidyWhitespace } from "../../text/normalize.ts";

export const textLoader: Loader = {
  format: "text",
  extensions: [".txt", ".text"],
  async load({ source, data }) {
    const text = tidyWhitespace(normalizeText(decodeUtf8(data)));
    return { title: titleFromSource(source), format: "text", sections: text ? [{ text, headings: [] }] : [] };
  },
};
