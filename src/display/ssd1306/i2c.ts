/**
 * The slice of `i2c-bus`'s Bus that this driver and oled-i2c-bus use. Tests pass the SSD1306
 * emulator, which has the same shape; production passes a real bus from {@link openI2cBus}.
 */
export interface I2cBusLike {
  /** Blocks the event loop for the whole transfer: only oled-i2c-bus's short init uses it. */
  i2cWriteSync(address: number, length: number, buffer: Buffer): number;
  /** Runs on libuv's thread pool: frames go this way so the event loop keeps turning. */
  i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
    callback: (error: Error | null, bytesWritten: number, buffer: Buffer) => void,
  ): void;
  closeSync(): void;
}

/** What `i2c-bus` exports (CommonJS; no type declarations are published for it). */
interface I2cBusModule {
  open(busNumber: number, callback: (error: Error | null) => void): I2cBusLike;
}

/**
 * Opens `/dev/i2c-<busNumber>` with the native `i2c-bus` addon, imported here and only here, on
 * first use: the demo, the tests and a laptop never load a native module. Note that i2c-bus opens
 * the device file lazily, so a missing bus (ENOENT) shows up at the first write, not here.
 */
export async function openI2cBus(busNumber: number): Promise<I2cBusLike> {
  // A specifier in a variable: TypeScript does not look for declarations `i2c-bus` lacks.
  const specifier = 'i2c-bus';
  let loaded: { default?: I2cBusModule } & Partial<I2cBusModule>;
  try {
    loaded = (await import(specifier)) as typeof loaded;
  } catch (error) {
    // Not installed (ERR_MODULE_NOT_FOUND) keeps its code. Installed but never built (no compiler
    // when npm ran) throws a plain Error from `bindings`: named here, so the line says to rebuild.
    if (typeof (error as { code?: unknown } | null)?.code === 'string') throw error;
    throw Object.assign(new Error(`cannot load the native i2c-bus module: ${error instanceof Error ? error.message : String(error)}`, { cause: error }), { code: 'ERR_DLOPEN_FAILED' });
  }
  const i2c = loaded.default ?? (loaded as I2cBusModule);
  return await new Promise<I2cBusLike>((resolve, reject) => {
    const bus = i2c.open(busNumber, (error) => (error ? reject(error) : resolve(bus)));
  });
}

/** Closes a bus handle, ignoring errors: it is called when the handle is already suspect. */
export function closeQuietly(bus: I2cBusLike | undefined): void {
  try {
    bus?.closeSync();
  } catch {
    // A handle on a vanished device may fail to close; there is nothing left to release.
  }
}

/** One write through the async API; a short write (i2c-dev clamps at 8,192 bytes) is an error. */
export function writeAsync(bus: I2cBusLike, address: number, bytes: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    bus.i2cWrite(address, bytes.length, bytes, (error, written) => {
      if (error) reject(error);
      else if (written !== bytes.length) {
        reject(Object.assign(new Error(`short I2C write: ${written} of ${bytes.length} bytes`), { code: 'EIO' }));
      } else resolve();
    });
  });
}
