/** Every command sees the same job (commands-agree-table.ts), row `s3`. */
import { agreeOn, ROWS } from './commands-agree-table.js';

agreeOn(ROWS.s3);
