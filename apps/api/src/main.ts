async function main(): Promise<void> {
  // NOTE: imported here so an invalid environment (checked while AppModule loads) ends in a clear message, not a stack.
  const { createApp, listen } = await import('./bootstrap');
  const app = await createApp();
  await listen(app);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
