// GradientReducer over MPI (2 ranks): averaged gradients equal a per-tensor MPI_Allreduce reference, with
// many small buckets started during backward; no-sync accumulation; parameters without gradients; two
// reducers for a GAN-style step; a layout mismatch between ranks fails on every rank.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "core/error.hpp"
#include "dist/mpi_reducer.hpp"
#include "dist/mpi_session.hpp"
#include "dist/reducer_factory.hpp"
#include "dist_test_model.hpp"

namespace sdn::dist {
namespace {

using testing::Net;

ReducerOptions tiny_buckets(MpiProgress progress) {
  ReducerOptions o;
  o.bucket_cap_bytes = 512;  // forces many buckets on this small model
  o.first_bucket_cap_bytes = 64;
  o.mpi_progress = progress;
  o.name = "test";
  return o;
}

// Expects the reducer's result for `p` to equal the per-tensor reference of the local gradient `local`.
void expect_reference(const std::string& name, const torch::Tensor& reduced, const torch::Tensor& local,
                      MPI_Comm comm) {
  const auto expected = testing::reference_average(local, comm);
  ASSERT_TRUE(reduced.defined()) << name;
  const double diff = (reduced - expected).abs().max().item<double>();
  EXPECT_LE(diff, 1e-6) << name << ": max |reducer - reference| = " << diff;
}

class Reducer : public ::testing::TestWithParam<MpiProgress> {};

TEST_P(Reducer, AveragedGradientsEqualPerTensorAllreduce) {
  Communicator comm;
  Net model(/*seed=*/42);
  Net reference(/*seed=*/42);
  auto reducer = make_reducer(named_parameters(*model), tiny_buckets(GetParam()), comm);
  ASSERT_STREQ(reducer->backend(), GetParam() == MpiProgress::kThread ? "mpi-thread" : "mpi");
  EXPECT_GE(reducer->buckets().size(), 5u);
  // "frozen" is excluded at attach time.
  for (const auto& p : reducer->params()) EXPECT_NE(p.name, "frozen");

  for (int step = 0; step < 3; ++step) {
    model->zero_grad();
    reference->zero_grad();
    const auto x = testing::batch_for(comm.rank(), step);
    testing::loss_of(model->forward(x, true)).backward();
    reducer->finish();
    testing::loss_of(reference->forward(x, true)).backward();
    const auto mine = model->named_parameters();
    const auto ref = reference->named_parameters();
    for (const auto& item : ref) {
      if (!item.value().requires_grad() || item.key() == "never") continue;
      expect_reference(item.key(), mine[item.key()].grad(), item.value().grad(), comm.comm());
    }
  }
  // Every bucket but those holding "never" (no gradient on any rank) was started during backward.
  EXPECT_GT(reducer->stats().buckets_started_in_backward, 0);
  EXPECT_EQ(reducer->stats().synced_steps, 3);
}

TEST_P(Reducer, NoSyncAccumulatesLocallyAndReducesOnce) {
  Communicator comm;
  Net model(7);
  Net reference(7);
  auto reducer = make_reducer(named_parameters(*model), tiny_buckets(GetParam()), comm);
  constexpr int kMicro = 3;
  for (int micro = 0; micro < kMicro; ++micro) {
    reducer->set_sync(micro == kMicro - 1);
    const auto x = testing::batch_for(comm.rank(), micro);
    (testing::loss_of(model->forward(x, true)) / kMicro).backward();
    reducer->finish();
    if (micro < kMicro - 1) {
      // Nothing was exchanged yet: the gradient is still this rank's own partial sum.
      testing::loss_of(reference->forward(x, true)).div(kMicro).backward();
      EXPECT_TRUE(torch::allclose(model->fc->weight.grad(), reference->fc->weight.grad()));
    } else {
      testing::loss_of(reference->forward(x, true)).div(kMicro).backward();
    }
  }
  for (const auto& item : reference->named_parameters()) {
    if (!item.value().requires_grad() || item.key() == "never") continue;
    expect_reference(item.key(), model->named_parameters()[item.key()].grad(), item.value().grad(), comm.comm());
  }
  EXPECT_EQ(reducer->stats().synced_steps, 1);
}

TEST_P(Reducer, ParametersWithoutGradient) {
  Communicator comm;
  Net model(11);
  auto reducer = make_reducer(named_parameters(*model), tiny_buckets(GetParam()), comm);
  for (int step = 0; step < 2; ++step) {
    // "sometimes" is used on rank 1 only, "never" on no rank. Grads start undefined.
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
    const bool use = comm.rank() == 1;
    const auto x = testing::batch_for(comm.rank(), step);
    testing::loss_of(model->forward(x, use)).backward();
    const torch::Tensor local = use ? model->sometimes.grad().clone() : torch::zeros_like(model->sometimes);
    reducer->finish();
    // Defined on every rank (some rank had it), equal to the average with zeros from the ranks without it.
    expect_reference("sometimes", model->sometimes.grad(), local, comm.comm());
    EXPECT_FALSE(model->never.grad().defined()) << "no rank produced it: must stay undefined";
    EXPECT_FALSE(model->frozen.grad().defined());
  }
  // The buckets holding "never" (and on rank 0 "sometimes") could only start in finish().
  EXPECT_GT(reducer->stats().buckets_started_in_finish, 0);
}

TEST_P(Reducer, TwoReducersForAGanStep) {
  Communicator comm;
  torch::manual_seed(5);
  torch::nn::Linear gen(4, 6), disc(6, 1);
  torch::manual_seed(5);
  torch::nn::Linear gen_ref(4, 6), disc_ref(6, 1);
  auto opts = tiny_buckets(GetParam());
  opts.name = "generator";
  auto g = make_reducer(named_parameters(*gen), opts, comm);
  opts.name = "discriminator";
  auto d = make_reducer(named_parameters(*disc), opts, comm);
  torch::manual_seed(300 + comm.rank());
  const auto z = torch::randn({3, 4});
  const auto real = torch::randn({3, 6});

  // G step: the loss runs through D, whose hooks fire too; D's reducer is off for this backward.
  d->set_sync(false);
  gen->zero_grad();
  disc->zero_grad();
  (-disc(gen(z)).mean()).backward();
  g->finish();
  d->finish();  // no-op
  gen_ref->zero_grad();
  (-disc_ref(gen_ref(z)).mean()).backward();
  expect_reference("gen.weight", gen->weight.grad(), gen_ref->weight.grad(), comm.comm());

  // D step on a detached fake: only D's reducer is involved.
  d->set_sync(true);
  disc->zero_grad();
  disc_ref->zero_grad();
  (disc(gen(z).detach()).mean() - disc(real).mean()).backward();
  d->finish();
  (disc_ref(gen_ref(z).detach()).mean() - disc_ref(real).mean()).backward();
  expect_reference("disc.weight", disc->weight.grad(), disc_ref->weight.grad(), comm.comm());
  expect_reference("disc.bias", disc->bias.grad(), disc_ref->bias.grad(), comm.comm());
}

TEST_P(Reducer, SecondGradientBeforeFinishIsAnError) {
  Communicator comm;
  torch::nn::Linear lin(3, 2);
  auto reducer = make_reducer(named_parameters(*lin), tiny_buckets(GetParam()), comm);
  const auto x = torch::ones({1, 3});
  lin(x).sum().backward();
  try {
    lin(x).sum().backward();
    ADD_FAILURE() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("second gradient before finish()"), std::string::npos) << e.what();
  }
  // Both ranks started the same buckets; finish() completes them and the reducer is usable again.
  reducer->finish();
  lin(x).sum().backward();
  reducer->finish();
}

// Gradients as bucket views (the default) against the copying path, bit for bit, on `comm` (1 or 2 ranks):
// real SGD (momentum, weight decay) and its zero_grad(), no-sync micro-batches, a parameter used by
// alternating ranks and one used by none, parameters restored in place (a checkpoint resume), and gradients
// set to undefined (Module::zero_grad(true)), after which they move back into their buckets.
void expect_views_match_copying(const Communicator& comm, MpiProgress progress) {
  Net viewed(21);
  Net copied(21);
  auto ov = tiny_buckets(progress);
  ov.name = "views";
  auto oc = ov;
  oc.grad_as_bucket_view = false;
  oc.name = "copying";
  auto rv = make_reducer(named_parameters(*viewed), ov, comm);
  auto rc = make_reducer(named_parameters(*copied), oc, comm);
  const auto sgd = torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-4);
  torch::optim::SGD ov_sgd(viewed->parameters(), sgd);
  torch::optim::SGD oc_sgd(copied->parameters(), sgd);
  std::map<std::string, const void*> home;  // where each gradient of the view path lives after step 1
  auto bits_equal = [](const torch::Tensor& a, const torch::Tensor& b) {
    return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
           std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(), a.nbytes()) == 0;
  };
  for (int step = 0; step < 6; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    if (step == 3) {
      torch::NoGradGuard no_grad;  // as train/train_state.cpp restore_state: copy_ into the parameters
      for (auto* m : {&viewed, &copied})
        for (auto& p : (*m)->parameters()) p.copy_(p * 0.5 + 0.01);
    }
    if (step == 4) {
      viewed->zero_grad(/*set_to_none=*/true);
      copied->zero_grad(/*set_to_none=*/true);
    } else if (step == 5) {
      viewed->zero_grad();  // Module::zero_grad replaces each gradient by a detached alias, then zeroes it
      copied->zero_grad();
    } else {
      ov_sgd.zero_grad();
      oc_sgd.zero_grad();
    }
    const int micro = step == 2 ? 3 : 1;
    for (int m = 0; m < micro; ++m) {
      rv->set_sync(m == micro - 1);
      rc->set_sync(m == micro - 1);
      const bool use = (comm.rank() + step) % 2 == 1;
      const auto x = testing::batch_for(comm.rank(), 10 * step + m);
      (testing::loss_of(viewed->forward(x, use)) / micro).backward();
      rv->finish();
      (testing::loss_of(copied->forward(x, use)) / micro).backward();
      rc->finish();
    }
    auto mine = viewed->named_parameters();
    for (const auto& item : copied->named_parameters()) {
      const auto& a = mine[item.key()].grad();
      const auto& b = item.value().grad();
      ASSERT_EQ(a.defined(), b.defined()) << item.key();
      if (!b.defined()) continue;
      EXPECT_TRUE(bits_equal(a, b)) << item.key() << ": the view path differs from the copying path";
      if (step == 1) home[item.key()] = a.data_ptr();
      if (step > 1 && home.count(item.key())) {
        EXPECT_EQ(a.data_ptr(), home[item.key()]) << item.key() << ": the gradient left its bucket";
      }
    }
    EXPECT_FALSE(viewed->never.grad().defined());
    ov_sgd.step();
    oc_sgd.step();
    for (const auto& item : copied->named_parameters())
      EXPECT_TRUE(bits_equal(mine[item.key()], item.value())) << item.key() << " after the optimiser step";
  }
  EXPECT_GT(home.size(), 5u);
}

TEST_P(Reducer, BucketViewsEqualTheCopyingPathBitForBitOnTwoRanks) {
  Communicator comm;
  expect_views_match_copying(comm, GetParam());
}

TEST_P(Reducer, BucketViewsEqualTheCopyingPathBitForBitOnOneRank) {
  Communicator self(MPI_COMM_SELF);
  expect_views_match_copying(self, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Progress, Reducer, ::testing::Values(MpiProgress::kNonblocking, MpiProgress::kThread),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(ReducerLayout, MismatchBetweenRanksFailsOnEveryRank) {
  Communicator comm;
  torch::nn::Linear lin(3, comm.rank() == 0 ? 2 : 4);
  try {
    make_reducer(named_parameters(*lin), ReducerOptions{}, comm);
    ADD_FAILURE() << "expected a layout mismatch error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gradient bucket layout of reducer 'gradients' differs between ranks"),
              std::string::npos)
        << e.what();
  }
}

TEST(ReducerLayout, BadProgressModeIsAUsageError) {
  EXPECT_THROW(parse_mpi_progress("async"), UsageError);
  EXPECT_EQ(parse_mpi_progress("thread"), MpiProgress::kThread);
  EXPECT_EQ(parse_mpi_progress("auto"), MpiProgress::kAuto);
}

TEST(ReducerLayout, AutoProgressUsesTheThreadWhenMpiAllowsIt) {
  Communicator comm;
  torch::nn::Linear lin(3, 2);
  auto reducer = make_reducer(named_parameters(*lin), ReducerOptions{}, comm);
  int level = MPI_THREAD_SINGLE;
  MPI_Query_thread(&level);
  EXPECT_STREQ(reducer->backend(), level >= MPI_THREAD_MULTIPLE ? "mpi-thread" : "mpi");
}

}  // namespace
}  // namespace sdn::dist
