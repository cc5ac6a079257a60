/** Traffic profiles: per-window features (edge) and the deterministic judge (contract). */
export * from './features.js';
export * from './model.js';
