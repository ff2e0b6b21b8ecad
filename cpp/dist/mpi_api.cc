// The MPI library mpi4py loaded, called through dlsym (Note [MPI at run time] in mpi_api.h).
#include "dist/mpi_api.h"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace tideflow {
namespace dist {

namespace {

struct Found {
  void* handle = nullptr;
  std::string path;
};

int find_mpi(struct dl_phdr_info* info, size_t, void* data) {
  auto* f = static_cast<Found*>(data);
  const char* name = info->dlpi_name;
  if (!name || !*name) return 0;
  void* h = dlopen(name, RTLD_NOLOAD | RTLD_LAZY);
  if (!h) return 0;
  if (dlsym(h, "MPI_Allreduce")) {
    f->handle = h;  // kept open for the life of the process
    f->path = name;
    return 1;
  }
  dlclose(h);
  return 0;
}

constexpr int64_t kMaxPiece = int64_t(1) << 30;  // elements per call: MPI counts are ints

template <class H>
H as_handle(intptr_t v) {
  if constexpr (std::is_pointer_v<H>) return reinterpret_cast<H>(v);
  else return static_cast<H>(v);
}

template <class H>
class MpiImpl final : public MpiLib {
  using AllreduceFn = int (*)(const void*, void*, int, H, H, H);
  using AllgathervFn = int (*)(const void*, int, H, void*, const int*, const int*, H, H);
  using BcastFn = int (*)(void*, int, H, int, H);
  using IallgatherFn = int (*)(const void*, int, H, void*, int, H, H, H*);
  using IallgathervFn = int (*)(const void*, int, H, void*, const int*, const int*, H, H, H*);
  using TestFn = int (*)(H*, int*, void*);
  using AbortFn = int (*)(H, int);
  using ErrorStringFn = int (*)(int, char*, int*);

 public:
  MpiImpl(void* lib, std::string path, const MpiHandles& h) : h_(h) {
    path_ = std::move(path);
    sym(lib, "MPI_Allreduce", allreduce_);
    sym(lib, "MPI_Allgatherv", allgatherv_);
    sym(lib, "MPI_Bcast", bcast_);
    sym(lib, "MPI_Iallgather", iallgather_);
    sym(lib, "MPI_Iallgatherv", iallgatherv_);
    sym(lib, "MPI_Test", test_);
    sym(lib, "MPI_Abort", abort_);
    sym(lib, "MPI_Error_string", error_string_);
    comm_ = as_handle<H>(h.comm);
  }

  void allreduce(const void* send, void* recv, int64_t count, DType dt, MpiOp op) override {
    const size_t esize = dtype_size(dt);
    for (int64_t done = 0; done < count; done += kMaxPiece) {
      const int n = (int)std::min(kMaxPiece, count - done);
      const void* s = send ? static_cast<const char*>(send) + done * esize : as_ptr(h_.in_place);
      check(allreduce_(s, static_cast<char*>(recv) + done * esize, n, type(dt), mpi_op(op), comm_),
            "MPI_Allreduce");
    }
  }

  void allgatherv(const void* send, int64_t count, void* recv, const std::vector<int64_t>& counts,
                  DType dt) override {
    std::vector<int> c(counts.size()), d(counts.size());
    int64_t total = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] > INT_MAX || total > INT_MAX)
        throw Error(ErrorCode::Unimplemented, "allgather of more than 2^31-1 elements is not supported");
      c[i] = (int)counts[i];
      d[i] = (int)total;
      total += counts[i];
    }
    check(allgatherv_(send, (int)count, type(dt), recv, c.data(), d.data(), type(dt), comm_), "MPI_Allgatherv");
  }

  void bcast(void* buf, int64_t count, DType dt, int root) override {
    const size_t esize = dtype_size(dt);
    for (int64_t done = 0; done < count; done += kMaxPiece) {
      const int n = (int)std::min(kMaxPiece, count - done);
      check(bcast_(static_cast<char*>(buf) + done * esize, n, type(dt), root, comm_), "MPI_Bcast");
    }
  }

  void iallgather_bytes(const void* send, int bytes, void* recv, MpiRequest* req) override {
    H* r = request(req);
    H t = as_handle<H>(h_.dt_byte);
    check(iallgather_(send, bytes, t, recv, bytes, t, comm_, r), "MPI_Iallgather");
    req->active = true;
  }

  void iallgatherv_bytes(const void* send, int count, void* recv, const std::vector<int>& counts,
                         const std::vector<int>& displs, MpiRequest* req) override {
    H* r = request(req);
    H t = as_handle<H>(h_.dt_byte);
    check(iallgatherv_(send, count, t, recv, counts.data(), displs.data(), t, comm_, r), "MPI_Iallgatherv");
    req->active = true;
  }

  bool test(MpiRequest* req) override {
    if (!req->active) return true;
    alignas(16) unsigned char status[256];  // larger than any implementation's MPI_Status
    int flag = 0;
    check(test_(request(req), &flag, status), "MPI_Test");
    if (flag) req->active = false;
    return flag != 0;
  }

  void abort(int code) override { abort_(comm_, code); }

 private:
  template <class F>
  void sym(void* lib, const char* name, F& fn) {
    void* p = dlsym(lib, name);
    if (!p)
      throw Error(ErrorCode::FailedPrecondition,
                  std::string("the MPI library ") + path_ + " has no " + name + " (MPI 3.0 or newer is needed)");
    fn = reinterpret_cast<F>(p);
  }

  static H* request(MpiRequest* r) {
    static_assert(sizeof(H) <= sizeof(r->handle), "request handle too large");
    return reinterpret_cast<H*>(r->handle);
  }

  static const void* as_ptr(intptr_t v) { return reinterpret_cast<const void*>(v); }

  H type(DType dt) const {
    switch (dt) {
      case DType::Float32: return as_handle<H>(h_.dt_float);
      case DType::Float64: return as_handle<H>(h_.dt_double);
      case DType::Int32: return as_handle<H>(h_.dt_int32);
      case DType::Int64: return as_handle<H>(h_.dt_int64);
      case DType::Bool: return as_handle<H>(h_.dt_byte);
      default: throw invalid_argument(std::string("collectives do not support dtype ") + dtype_name(dt));
    }
  }

  H mpi_op(MpiOp op) const {
    switch (op) {
      case MpiOp::Sum: return as_handle<H>(h_.op_sum);
      case MpiOp::Min: return as_handle<H>(h_.op_min);
      case MpiOp::Max: return as_handle<H>(h_.op_max);
      case MpiOp::Prod: return as_handle<H>(h_.op_prod);
    }
    return as_handle<H>(h_.op_sum);
  }

  void check(int rc, const char* fn) {
    if (rc == 0) return;
    char msg[4096] = {0};
    int len = 0;
    std::string what = error_string_(rc, msg, &len) == 0 ? std::string(msg, (size_t)std::max(0, len))
                                                          : "error code " + std::to_string(rc);
    throw Error(ErrorCode::Internal, std::string(fn) + " failed: " + what);
  }

  MpiHandles h_;
  H comm_;
  AllreduceFn allreduce_ = nullptr;
  AllgathervFn allgatherv_ = nullptr;
  BcastFn bcast_ = nullptr;
  IallgatherFn iallgather_ = nullptr;
  IallgathervFn iallgatherv_ = nullptr;
  TestFn test_ = nullptr;
  AbortFn abort_ = nullptr;
  ErrorStringFn error_string_ = nullptr;
};

}  // namespace

std::unique_ptr<MpiLib> MpiLib::load(const MpiHandles& h) {
  Found f;
  dl_iterate_phdr(find_mpi, &f);
  if (!f.handle)
    throw Error(ErrorCode::FailedPrecondition,
                "no MPI library is loaded in this process: import mpi4py.MPI first (pip install mpi4py mpich)");
  if (h.handle_bytes == 4) return std::make_unique<MpiImpl<int32_t>>(f.handle, f.path, h);
  if (h.handle_bytes == (int)sizeof(void*)) return std::make_unique<MpiImpl<void*>>(f.handle, f.path, h);
  throw Error(ErrorCode::FailedPrecondition,
              "MPI handles of " + std::to_string(h.handle_bytes) + " bytes are not supported (" + f.path + ")");
}

}  // namespace dist
}  // namespace tideflow
