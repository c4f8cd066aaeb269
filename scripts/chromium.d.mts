/** Flags for a headless Chromium on a machine without network, as root, in a container. */
export declare const CHROMIUM_ARGS: string[];
/** The Chromium executable, installed with apt-get when missing (root on Debian/Ubuntu). */
export declare function findChromium(options?: { install?: boolean }): Promise<string>;
