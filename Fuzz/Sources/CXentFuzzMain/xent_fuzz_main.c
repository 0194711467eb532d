// The process entry of xent-fuzz: hands control to libFuzzer's driver.
//
// SwiftPM links an executable target with `--defsym main=<module>_main` (so tests can import
// it), which hides libFuzzer's own `main`; this supplies `xent_fuzz_main` and starts the
// driver (LLVMFuzzerRunDriver, libFuzzer's public entry since LLVM 12) on the Swift target's
// LLVMFuzzerTestOneInput. Linked without that renaming, libFuzzer's main is used and this
// function is simply unused.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int xent_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
