/** Every command sees the same job (commands-agree-table.ts), row `variants`. */
import { agreeOn, ROWS } from './commands-agree-table.js';

agreeOn(ROWS.variants);
