export * from './errors.js';
export * from './models.js';
export { locateTool, detectFeatures } from './media/locate.js';
//# sourceMappingURL=index.js.map
