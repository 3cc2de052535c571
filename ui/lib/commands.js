// @ts-check
// Calling the app's commands, typed by the contract (ui/types/contract.ts, generated from
// the Rust side): every answer is `{ ok: true, value }` or `{ ok: false, error }` with the
// error as a plain sentence. Pure: the Tauri call is passed in.

import { errorText } from './errors.js';

/** @typedef {import('../types/contract').Commands} Commands */
/** @typedef {keyof Commands} CommandName */

/**
 * What a command came to: its answer, or the sentence it failed with.
 * @template T
 * @typedef {{ ok: true, value: T } | { ok: false, error: string }} Outcome
 */

/**
 * Runs a command with its arguments; the sentence of a failure is shown unless `quiet`.
 * @typedef {<K extends CommandName>(
 *   command: K, args?: Commands[K]['args'], options?: { quiet?: boolean },
 * ) => Promise<Outcome<Commands[K]['answer']>>} Call
 */

/**
 * A `Call` over `invoke` (Tauri's `core.invoke`); `showError(sentence)` shows the failures
 * of calls that are not `quiet`.
 * @param {(command: string, args?: object) => Promise<unknown>} invoke
 * @param {(sentence: string) => void} showError
 * @returns {Call}
 */
export function createCall(invoke, showError) {
  /**
   * @template {CommandName} K
   * @param {K} command
   * @param {Commands[K]['args']} [args]
   * @param {{ quiet?: boolean }} [options]
   * @returns {Promise<Outcome<Commands[K]['answer']>>}
   */
  async function call(command, args, { quiet = false } = {}) {
    try {
      // The contract says what each command answers.
      const value = /** @type {Commands[K]['answer']} */ (await invoke(command, args));
      return { ok: true, value };
    } catch (error) {
      const text = errorText(error);
      if (!quiet) showError(text);
      return { ok: false, error: text };
    }
  }
  return call;
}
