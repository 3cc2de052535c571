// @ts-check
// Turning whatever a failed command gives back into one plain sentence. Pure: no DOM.

const FALLBACK = 'Something went wrong. Please try again.';

/**
 * A plain sentence for a rejected command: the string itself (the backend's contract), an
 * Error's or object's `message`, or a general sentence. Never a stack trace.
 * @param {unknown} error
 */
export function errorText(error) {
  let text = '';
  if (typeof error === 'string') text = error;
  else if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string') {
    text = error.message;
  }
  text = text.trim();
  if (!text) return FALLBACK;
  // Keep only the first line: anything after it is technical detail.
  return text.split('\n')[0].trim();
}
