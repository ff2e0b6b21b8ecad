// tideflow's C++ API, part 4: sessions and callables.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "tideflow/graph.h"

namespace tideflow {
inline namespace v1 {

struct SessionOptions {
  int inter_op_threads = 0;  // 0: one per core; 1: nodes run one after another (deterministic)
  int intra_op_threads = 0;
};

// feed_dict: {{x, Tensor(...)}, {y, ...}}
using FeedDict = std::vector<std::pair<Output, Tensor>>;

// What Session::run can fetch: a tensor (its value comes back) or an operation (run for its effect; an
// empty Tensor comes back in its place, as Python's None).
class Fetch {
 public:
  Fetch(const Output& o) : out_(o) {}         // NOLINT: implicit on purpose
  Fetch(const Operation& op) : target_(op) {}  // NOLINT
  Fetch(const Variable& v) : out_(v.ref()) {}  // NOLINT
  const Output& output() const { return out_; }
  const Operation& target() const { return target_; }

 private:
  Output out_;
  Operation target_;
};

namespace detail {
// A small array on the stack for the common case of a few feeds or fetches.
template <class T, size_t N = 8>
class SmallArray {
 public:
  explicit SmallArray(size_t n) : n_(n), p_(n <= N ? stack_ : (heap_ = std::make_unique<T[]>(n)).get()) {}
  T* data() { return p_; }
  T& operator[](size_t i) { return p_[i]; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  T stack_[N];  // filled by the caller before use
  std::unique_ptr<T[]> heap_;
  T* p_;
};

inline std::vector<Tensor> adopt_all(SmallArray<TFL_Tensor*>& out) {
  std::vector<Tensor> r;
  r.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) r.emplace_back(out[i]);
  return r;
}
}  // namespace detail

// Session.make_callable: feeds, fetches and targets resolved once; each call just runs. The cheapest way
// to run a step repeatedly.
class Callable {
 public:
  Callable() = default;
  explicit Callable(TFL_Callable* c)
      : c_(c, TFL_DeleteCallable),
        nfeeds_(static_cast<size_t>(TFL_CallableNumFeeds(c))),
        nfetches_(static_cast<size_t>(TFL_CallableNumFetches(c))) {}
  // One value per feed in, one per fetch out.
  std::vector<Tensor> operator()(const std::vector<Tensor>& feeds = {}) const {
    if (feeds.size() != nfeeds_)
      throw InvalidArgumentError("Callable: expected " + std::to_string(nfeeds_) + " feed values, got " +
                                 std::to_string(feeds.size()));
    detail::SmallArray<TFL_Tensor*> in(feeds.size()), out(nfetches_);
    for (size_t i = 0; i < feeds.size(); ++i) in[i] = feeds[i].c();
    detail::call(TFL_CallableRun, c_.get(), in.data(), out.data());
    return detail::adopt_all(out);
  }
  TFL_Callable* c() const { return c_.get(); }

 private:
  std::shared_ptr<TFL_Callable> c_;
  size_t nfeeds_ = 0, nfetches_ = 0;
};

// tf.Session: runs pruned subgraphs of a graph. Variables belong to the session. run() may be called from
// several threads at once.
class Session {
 public:
  explicit Session(const Graph& g, const SessionOptions& opts = {})
      : s_(detail::call(TFL_NewSession, g.c(), opts.inter_op_threads, opts.intra_op_threads), TFL_DeleteSession) {}

  // Fetches come back in order (an empty Tensor for an operation).
  std::vector<Tensor> run(const std::vector<Fetch>& fetches, const FeedDict& feeds = {}) {
    std::vector<TFL_Output> outs;
    std::vector<size_t> where;
    std::vector<TFL_Operation*> targets;
    for (size_t i = 0; i < fetches.size(); ++i) {
      if (fetches[i].target().valid()) {
        targets.push_back(fetches[i].target().c());
      } else {
        outs.push_back(fetches[i].output().c());
        where.push_back(i);
      }
    }
    std::vector<Tensor> got = run_raw(feeds, outs, targets);
    std::vector<Tensor> r(fetches.size());
    for (size_t i = 0; i < where.size(); ++i) r[where[i]] = std::move(got[i]);
    return r;
  }
  // One tensor's value.
  Tensor run(const Output& fetch, const FeedDict& feeds = {}) {
    TFL_Output o = fetch.c();
    return std::move(run_raw(feeds, {o}, {})[0]);
  }
  // Runs an operation for its effect (an initializer, a training step).
  void run(const Operation& target, const FeedDict& feeds = {}) { run_raw(feeds, {}, {target.c()}); }

  Callable make_callable(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                         const std::vector<Operation>& targets = {}) {
    std::vector<TFL_Output> f, o;
    std::vector<TFL_Operation*> t;
    for (const Output& x : feeds) f.push_back(x.c());
    for (const Output& x : fetches) o.push_back(x.c());
    for (const Operation& x : targets) t.push_back(x.c());
    return Callable(detail::call(TFL_SessionMakeCallable, s_.get(), f.data(), static_cast<int>(f.size()), o.data(), static_cast<int>(o.size()),
                                 t.data(), static_cast<int>(t.size())));
  }

  void close() { detail::call(TFL_CloseSession, s_.get()); }
  TFL_Session* c() const { return s_.get(); }

 private:
  std::vector<Tensor> run_raw(const FeedDict& feeds, const std::vector<TFL_Output>& fetches,
                              const std::vector<TFL_Operation*>& targets) {
    detail::SmallArray<TFL_Output> fk(feeds.size());
    detail::SmallArray<TFL_Tensor*> fv(feeds.size()), out(fetches.size());
    for (size_t i = 0; i < feeds.size(); ++i) {
      fk[i] = feeds[i].first.c();
      fv[i] = feeds[i].second.c();
    }
    detail::call(TFL_SessionRun, s_.get(), fk.data(), fv.data(), static_cast<int>(feeds.size()), fetches.data(), out.data(),
                 static_cast<int>(fetches.size()), targets.data(), static_cast<int>(targets.size()));
    return detail::adopt_all(out);
  }

  std::shared_ptr<TFL_Session> s_;
};

}  // namespace v1
}  // namespace tideflow
