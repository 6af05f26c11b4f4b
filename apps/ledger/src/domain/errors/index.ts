export * from './account-already-opened.error';
export * from './account-not-found.error';
export * from './insufficient-funds.error';
export * from './invalid-amount.error';
