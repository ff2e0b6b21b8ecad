#pragma once
// Symbols of the core library are hidden unless marked; the Python module and C++ programs that embed
// tideflow link against what carries TF_API.
#if defined(TIDEFLOW_BUILDING)
#define TF_API __attribute__((visibility("default")))
#else
#define TF_API
#endif
