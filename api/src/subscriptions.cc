// Subscriptions, tracking waits and the listener machinery behind them: derived once, for every
// recorder, from the core reads and the append listeners each backend notifies.
#include <algorithm>
#include <deque>
#include <functional>
#include <utility>

#include "api/src/append_waiter.h"
#include "es/recorder.h"

namespace es {
namespace {

// Rows fetched per read while catching up: bounds the memory a subscription holds.
constexpr std::int64_t kBatchSize = 500;

// A subscription over any ordered feed: `fetch(after)` returns up to a batch of the items after
// position `after`, in order; `position(item)` says where an item is.
template <typename T>
class FeedSubscription final : public Subscription<T> {
 public:
  using Fetch = std::function<Result<std::vector<T>>(std::int64_t after)>;
  using Position = std::function<std::int64_t(const T&)>;

  FeedSubscription(AppendListeners& listeners, std::int64_t after, Fetch fetch, Position position)
      : waiter_(listeners, nullptr),
        after_(after),
        fetch_(std::move(fetch)),
        position_(std::move(position)) {}

  Result<T> Next(std::chrono::milliseconds timeout) override {
    const AppendWaiter::Deadline deadline = DeadlineAfter(timeout);
    while (true) {
      if (waiter_.stopped()) return Status::Interrupted("subscription stopped");
      if (!buffer_.empty()) {
        T item = std::move(buffer_.front());
        buffer_.pop_front();
        return item;
      }
      waiter_.Arm();
      ES_ASSIGN_OR_RETURN(std::vector<T> batch, fetch_(after_));
      if (!batch.empty()) {
        after_ = position_(batch.back());
        std::move(batch.begin(), batch.end(), std::back_inserter(buffer_));
        continue;
      }
      switch (waiter_.Wait(deadline)) {
        case AppendWaiter::Wake::kAppended:
          break;
        case AppendWaiter::Wake::kStopped:
          return Status::Interrupted("subscription stopped");
        case AppendWaiter::Wake::kTimedOut:
          return Status::Timeout("no new item within the timeout");
      }
    }
  }

  void Stop() override { waiter_.Stop(); }

 private:
  AppendWaiter waiter_;
  std::int64_t after_;  // the position of the last item fetched
  std::deque<T> buffer_;
  const Fetch fetch_;
  const Position position_;
};

}  // namespace

void Interrupt::Set() {
  std::lock_guard lock(mu_);
  set_ = true;
  for (AppendWaiter* waiter : waiters_) waiter->Stop();
}

bool Interrupt::IsSet() const {
  std::lock_guard lock(mu_);
  return set_;
}

void AppendListeners::Add(AppendListener* listener) {
  std::lock_guard lock(mu_);
  listeners_.push_back(listener);
  count_.store(listeners_.size(), std::memory_order_release);
}

void AppendListeners::Remove(AppendListener* listener) {
  std::lock_guard lock(mu_);
  listeners_.erase(std::find(listeners_.begin(), listeners_.end(), listener));
  count_.store(listeners_.size(), std::memory_order_release);
}

void AppendListeners::Notify() {
  // A listener added after this load registered after the write was published, and Arm()s
  // before it reads, so it cannot miss the write.
  if (count_.load(std::memory_order_acquire) == 0) return;
  std::lock_guard lock(mu_);
  for (AppendListener* listener : listeners_) listener->OnAppend();
}

AppendWaiter::AppendWaiter(AppendListeners& listeners, const Interrupt* interrupt)
    : listeners_(listeners), interrupt_(interrupt) {
  listeners_.Add(this);
  if (interrupt_ != nullptr) {
    std::lock_guard lock(interrupt_->mu_);
    interrupt_->waiters_.push_back(this);
    stopped_ = interrupt_->set_;
  }
}

AppendWaiter::~AppendWaiter() {
  if (interrupt_ != nullptr) {
    std::lock_guard lock(interrupt_->mu_);
    auto& waiters = interrupt_->waiters_;
    waiters.erase(std::find(waiters.begin(), waiters.end(), this));
  }
  listeners_.Remove(this);
}

void AppendWaiter::OnAppend() {
  std::lock_guard lock(mu_);
  appended_ = true;
  wake_.notify_all();
}

void AppendWaiter::Stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  wake_.notify_all();
}

bool AppendWaiter::stopped() {
  std::lock_guard lock(mu_);
  return stopped_;
}

void AppendWaiter::Arm() {
  std::lock_guard lock(mu_);
  appended_ = false;
}

AppendWaiter::Wake AppendWaiter::Wait(Deadline deadline) {
  std::unique_lock lock(mu_);
  wake_.wait_until(lock, deadline, [this] { return appended_ || stopped_; });
  if (stopped_) return Wake::kStopped;
  return appended_ ? Wake::kAppended : Wake::kTimedOut;
}

AppendWaiter::Deadline DeadlineAfter(std::chrono::milliseconds timeout) {
  const auto now = std::chrono::steady_clock::now();
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(AppendWaiter::Deadline::max() - now);
  return now + std::clamp(timeout, std::chrono::milliseconds(0), room);
}

Result<std::unique_ptr<Subscription<SequencedEvent>>> Recorder::Subscribe(
    const Query& query, std::optional<std::int64_t> after) {
  if (after && *after < 0) return Status::InvalidArgument("after must not be negative");
  auto fetch = [this, query](std::int64_t from) -> Result<std::vector<SequencedEvent>> {
    ES_ASSIGN_OR_RETURN(ReadResult result, Read(query, ReadOptions{from, kBatchSize}));
    return std::move(result.events);
  };
  return std::unique_ptr<Subscription<SequencedEvent>>(
      new FeedSubscription<SequencedEvent>(append_listeners_, after.value_or(0), std::move(fetch),
                                           [](const SequencedEvent& e) { return e.position; }));
}

Result<std::unique_ptr<Subscription<Notification>>> Recorder::SubscribeNotifications(
    std::optional<std::int64_t> gt, std::vector<std::string> topics) {
  auto fetch =
      [this, topics = std::move(topics)](std::int64_t from) -> Result<std::vector<Notification>> {
    SelectNotificationsOptions options;
    options.start = from;
    options.inclusive_of_start = false;
    options.limit = kBatchSize;
    options.topics = topics;
    return SelectNotifications(options);
  };
  return std::unique_ptr<Subscription<Notification>>(new FeedSubscription<Notification>(
      append_listeners_, std::max<std::int64_t>(gt.value_or(0), 0), std::move(fetch),
      [](const Notification& n) { return n.id; }));
}

Status Recorder::Wait(std::string_view application_name,
                      std::optional<std::int64_t> notification_id,
                      std::chrono::milliseconds timeout, const Interrupt* interrupt) {
  if (!notification_id) return Status::OK();
  const AppendWaiter::Deadline deadline = DeadlineAfter(timeout);
  AppendWaiter waiter(append_listeners_, interrupt);
  while (true) {
    waiter.Arm();
    ES_ASSIGN_OR_RETURN(bool processed, HasTrackingId(application_name, notification_id));
    if (processed) return Status::OK();
    switch (waiter.Wait(deadline)) {
      case AppendWaiter::Wake::kAppended:
        break;
      case AppendWaiter::Wake::kStopped:
        return Status::Interrupted("wait for tracking id " + std::to_string(*notification_id) +
                                   " of '" + std::string(application_name) + "' interrupted");
      case AppendWaiter::Wake::kTimedOut:
        return Status::Timeout("tracking id " + std::to_string(*notification_id) + " of '" +
                               std::string(application_name) + "' not recorded in time");
    }
  }
}

}  // namespace es
