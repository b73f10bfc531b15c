// The little of Node's API the tests use (the dashboard does not depend on @types/node).
declare const process: { env: Record<string, string | undefined> };
