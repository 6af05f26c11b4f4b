export * from './catalogue.seed';
