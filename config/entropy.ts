// How hard a key or token is to guess, for the secrets that sign or grant access (secretKey, its
// fallbacks, apiTokens). Whoever holds one signed share link can test guesses of SECRET_KEY
// offline at the speed of HMAC-SHA256, so what matters is how many guesses a pattern-aware
// attacker needs, not the length the apps check.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";

/**
 * The least estimated strength accepted: 128 bits, the security level of the AES-128 and
 * HMAC keys NIST still approves without an end date (SP 800-131A), and what `openssl rand -hex
 * 32` gives twice over. A guessable key is refused however long it is.
 */
export const SECRET_MIN_BITS = 128;

// Built on first use: the dictionaries take a moment to load, and most programs never need them.
let estimator: ZxcvbnFactory | undefined;

/**
 * The estimated strength of `secret` in bits: the smaller of zxcvbn's guess count (repeats,
 * sequences, keyboard walks, dictionary words and common passwords) and what the characters it
 * uses can carry (length × log2 of the distinct characters), since zxcvbn scores a long string
 * from a tiny alphabet ("0110…") as if every character could be any of ten.
 */
export function estimatedBits(secret: string): number {
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  const patterns = estimator.check(secret).guessesLog10 * Math.log2(10);
  const alphabet = secret.length * Math.log2(Math.max(new Set(secret).size, 1));
  return Math.min(patterns, alphabet);
}
