// Filled in by the provider work that introduces this capability (see the package README).
export {};
