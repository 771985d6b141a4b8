#pragma once
// Live curves of the set being recorded: torque against time over a sliding window, and torque
// against angle over the last few seconds, redrawn at display rate from what the acquisition
// fan-out delivered. The feed is a FanOut consumer: it only appends under a short lock, so the
// GUI can never slow the recorder (a GUI that falls behind loses display samples, counted by
// the fan-out, never recorded ones).

#include <cstddef>
#include <mutex>
#include <span>
#include <vector>

#include <QChartView>
#include <QTimer>
#include <QWidget>

#include "isokin/acquisition/fan_out.h"

class QLineSeries;
class QValueAxis;

namespace isokin::gui {

// Thread contract: begin_set/consume/end_set on the fan-out's lane thread; take() on the GUI
// thread.
class LiveFeed final : public acquisition::SampleConsumer {
 public:
  struct Update {
    bool new_set = false;  // samples from here on belong to `set`
    acquisition::SetInfo set;
    std::vector<drivers::Sample> samples;
  };

  void begin_set(const acquisition::SetInfo& set) override;
  void consume(std::span<const drivers::Sample> samples) override;
  // What arrived since the last call.
  [[nodiscard]] Update take();

 private:
  std::mutex mutex_;
  Update pending_;
};

class LiveCurves : public QWidget {
  Q_OBJECT
 public:
  explicit LiveCurves(QWidget* parent = nullptr);

  // The feed to draw from (nullptr: stop); the curves redraw about 30 times a second.
  void follow(LiveFeed* feed);
  void set_window_seconds(double seconds) { window_seconds_ = seconds; }
  // Takes what the feed has and redraws now (the timer calls it; tests and benchmarks too).
  void redraw();
  // Replaces the drawn samples (benchmarks, replay of a recorded set).
  void show_samples(const acquisition::SetInfo& set, std::span<const drivers::Sample> samples);
  // Rebuilds the series from the samples held (what every redraw does after taking new ones).
  void update_series();

  [[nodiscard]] QChartView* time_view() const { return time_view_; }
  [[nodiscard]] QChartView* angle_view() const { return angle_view_; }
  [[nodiscard]] std::size_t sample_count() const { return time_.size(); }
  // Largest |torque| of the set so far (N·m).
  [[nodiscard]] double peak_torque() const { return peak_; }

 private:
  void start_set(const acquisition::SetInfo& set);
  void append(std::span<const drivers::Sample> samples);

  LiveFeed* feed_ = nullptr;
  QTimer timer_;
  double window_seconds_ = 20.0;
  double angle_window_seconds_ = 4.0;
  QChartView* time_view_;
  QChartView* angle_view_;
  QLineSeries* torque_time_;
  QLineSeries* torque_angle_;
  QValueAxis* time_axis_;
  QValueAxis* torque_axis_;
  QValueAxis* angle_axis_;
  QValueAxis* torque_axis2_;
  std::vector<double> time_, torque_, angle_;
  double peak_ = 0.0;
  double torque_extent_ = 50.0;  // the torque axes only grow within a set: no jumping
};

}  // namespace isokin::gui
