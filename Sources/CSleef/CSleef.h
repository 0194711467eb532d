// SLEEF's public header, for Swift (scalar functions only are ABI-safe to call from Swift).
#include <sleef.h>
