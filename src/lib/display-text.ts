// Names people choose (first and last names, group names) are shown to others and written into
// notification text: they lose what could make them lie about where they end or how they read —
// control characters (line breaks included), bidirectional overrides, embeddings, isolates and
// marks, and invisible spaces and joiners of words. Zero-width (non-)joiners stay: Persian,
// Indic scripts and emoji sequences need them.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function displayText(text: string): string {
  return text.replace(HIDDEN, '').trim();
}
