// Nothing to import: this target only supplies the fuzzer's process entry (see the .c file).
#ifndef CXENT_FUZZ_MAIN_H
#define CXENT_FUZZ_MAIN_H
#endif
