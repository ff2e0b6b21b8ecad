#pragma once
// Note [shared-memory allreduce]
// When every rank runs on one machine, an allreduce through MPI's point-to-point layer moves the data in
// small cells with a handshake each (MPICH: 0.55-0.7 ms of CPU time for the 0.94 MB of an MLP's gradients
// on two ranks, about as long as a third of the step's computing). Here the ranks share an MPI window
// (MPI_Win_allocate_shared over the node's communicator, made by tideflow.horovod's init) and reduce in
// it directly: each rank copies its piece into its own slot, waits for the others, reduces one contiguous
// part of the piece across all slots (in rank order, so every rank's result is the same bits), waits
// again and copies the others' parts. Pieces alternate between two slots per rank, so one rank starting
// the next piece never overwrites a slot another still reads, and two waits per piece suffice. The waits
// are a counter per rank in the window: spin briefly, then yield the core. Dtypes and reductions it does
// not cover, and ranks spread over machines, go through MPI as before; every rank makes the same choice
// (it depends only on the negotiated dtype and reduction, and init enables it on all ranks or none).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dist/mpi_api.h"

namespace tideflow {
namespace dist {

class ShmAllreduce {
 public:
  // `regions[q]`: rank q's region of the shared window, `region_bytes` each (at least region_bytes_for(1)).
  ShmAllreduce(const std::vector<void*>& regions, int rank, size_t region_bytes);
  static size_t region_bytes_for(size_t slot_bytes) { return kHeader + 2 * slot_bytes; }
  static bool covers(DType dt);  // every reduction of these dtypes
  // Every rank calls it with the same count, dtype and op; send == nullptr reduces recv in place.
  void allreduce(const void* send, void* recv, int64_t count, DType dt, MpiOp op);

 private:
  static constexpr size_t kHeader = 128;  // the rank's counter, alone on its cache lines
  std::atomic<uint64_t>& counter(int q) const { return *static_cast<std::atomic<uint64_t>*>(regions_[q]); }
  char* slot(int q, int s) const { return static_cast<char*>(regions_[q]) + kHeader + s * slot_bytes_; }
  void wait_all();  // this rank's counter +1, then until every rank's counter reaches it
  std::vector<void*> regions_;
  int rank_, size_;
  size_t slot_bytes_;
  uint64_t count_ = 0;  // this rank's waits so far
  int next_slot_ = 0;
};

}  // namespace dist
}  // namespace tideflow
