/**
 * Page visibility, as the subscription sees it.
 *
 * In a browser this is `document` (its `hidden` flag and `visibilitychange`
 * event). Elsewhere (Node, workers) nothing is ever hidden. Tests pass their
 * own object with the same two members.
 * @module visibility
 */

/**
 * @typedef {object} VisibilitySource
 * @property {boolean} hidden
 * @property {(type: 'visibilitychange', listener: () => void) => void} addEventListener
 * @property {(type: 'visibilitychange', listener: () => void) => void} removeEventListener
 */

/** @returns {VisibilitySource} the document when there is one, else an always-visible stand-in */
export function defaultVisibility() {
  if (typeof document !== 'undefined' && typeof document.addEventListener === 'function') {
    return document;
  }
  return { hidden: false, addEventListener() {}, removeEventListener() {} };
}

/**
 * Calls `onChange(hidden)` whenever the page is hidden or shown again.
 * @param {VisibilitySource} source
 * @param {(hidden: boolean) => void} onChange
 * @returns {() => void} stops watching
 */
export function watchVisibility(source, onChange) {
  const listener = () => onChange(Boolean(source.hidden));
  source.addEventListener('visibilitychange', listener);
  return () => source.removeEventListener('visibilitychange', listener);
}
