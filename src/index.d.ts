export * from './errors.js';
export * from './models.js';
export { locateTool, detectFeatures } from './media/locate.js';
