/** Every command sees the same job (commands-agree-table.ts), row `chain`. */
import { agreeOn, ROWS } from './commands-agree-table.js';

agreeOn(ROWS.chain);
