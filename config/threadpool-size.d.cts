export declare const LIBUV_DEFAULT_THREADS: number;
export declare const LIBUV_MAX_THREADS: number;
export declare const DEFAULT_AUTH_CONCURRENCY: number;
export declare const THREADS_BESIDE_SCRYPT: number;
export declare function threadpoolSizeFor(threadpoolSize: number | undefined, authConcurrency: number): number;
export declare function libuvThreads(value: string | undefined): number;
export declare function requestedThreadpoolSize(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
  parseYaml: (text: string) => unknown,
): number | undefined;
