#pragma once
// Note [MPI at run time]
// tideflow builds without MPI headers and imports without an MPI library; MPI arrives with the optional
// `mpi4py` package, which loads one (MPICH, Open MPI, Intel MPI, ...) into the process. The collective
// kernels must call that same library (two MPI libraries in one process cannot share a communicator),
// directly and without the GIL. So at hvd.init() the core looks among the shared objects already loaded for
// the one that exports MPI_Allreduce and takes the few functions it needs with dlsym. What the headers
// would have fixed at build time comes from mpi4py at run time instead: the handle values of the
// communicator, datatypes and ops (`MPI.FLOAT.handle`, ...), their size in bytes (an `int` in MPICH's ABI,
// a pointer in Open MPI's and in the MPI-5 standard ABI; `MPI._sizeof`) and MPI_IN_PLACE's address. The
// calls are instantiated once per handle type, so each library is called with its own prototypes. Only
// functions whose signatures involve nothing else (no MPI_Status layout: MPI_Test gets a scratch block
// larger than any implementation's status) are used.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"

namespace tideflow {
namespace dist {

// Handle values as mpi4py reports them, widened to intptr_t.
struct MpiHandles {
  int handle_bytes = 0;  // sizeof(MPI_Comm): 4 or 8
  intptr_t comm = 0;     // a communicator for tideflow alone (a Dup of COMM_WORLD)
  intptr_t in_place = 0;
  intptr_t dt_float = 0, dt_double = 0, dt_int32 = 0, dt_int64 = 0, dt_byte = 0;
  intptr_t op_sum = 0, op_min = 0, op_max = 0, op_prod = 0;
};

enum class MpiOp { Sum, Min, Max, Prod };

// One nonblocking exchange in flight: its request handle, whatever its size.
struct MpiRequest {
  alignas(8) unsigned char handle[8] = {};
  bool active = false;
};

class MpiLib {
 public:
  virtual ~MpiLib() = default;
  // Finds the MPI library loaded in this process; throws FailedPrecondition saying what is missing.
  static std::unique_ptr<MpiLib> load(const MpiHandles& h);
  const std::string& path() const { return path_; }

  // Blocking collectives over the communicator. `send == nullptr` reduces `recv` in place. Counts are in
  // elements of `dt` and may exceed INT_MAX (split into pieces where MPI allows).
  virtual void allreduce(const void* send, void* recv, int64_t count, DType dt, MpiOp op) = 0;
  virtual void allgatherv(const void* send, int64_t count, void* recv, const std::vector<int64_t>& counts,
                          DType dt) = 0;
  virtual void bcast(void* buf, int64_t count, DType dt, int root) = 0;
  // Nonblocking: every rank's `bytes` bytes into `recv` (size * bytes), or every rank's own count of bytes.
  virtual void iallgather_bytes(const void* send, int bytes, void* recv, MpiRequest* req) = 0;
  virtual void iallgatherv_bytes(const void* send, int count, void* recv, const std::vector<int>& counts,
                                 const std::vector<int>& displs, MpiRequest* req) = 0;
  virtual bool test(MpiRequest* req) = 0;  // true once complete
  virtual void abort(int code) = 0;

 protected:
  std::string path_;
};

}  // namespace dist
}  // namespace tideflow
