#include "isokin/gui/live_curves.h"

#include <algorithm>
#include <cmath>

#include <QChart>
#include <QHBoxLayout>
#include <QLineSeries>
#include <QValueAxis>

#include "isokin/gui/decimation.h"
#include "isokin/gui/palette.h"

namespace isokin::gui {
namespace {

constexpr int kRedrawMs = 33;               // ~30 frames per second
constexpr std::size_t kAnglePoints = 2000;  // a torque–angle loop needs no more to look smooth

QValueAxis* axis(QChart* chart, Qt::Alignment where, const QString& title, const char* format) {
  auto* a = new QValueAxis;
  a->setTitleText(title);
  a->setLabelFormat(QString::fromLatin1(format));
  chart->addAxis(a, where);
  return a;
}

QChartView* new_view(QChart* chart) {
  chart->legend()->hide();
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->setMargins(QMargins(2, 2, 2, 2));
  auto* view = new QChartView(chart);
  view->setRenderHint(QPainter::Antialiasing, false);  // live: speed over smoothness
  view->setMinimumSize(320, 240);
  return view;
}

}  // namespace

void LiveFeed::begin_set(const acquisition::SetInfo& set) {
  const std::lock_guard lock(mutex_);
  pending_.new_set = true;
  pending_.set = set;
  pending_.samples.clear();  // what the GUI did not draw of the previous set is not needed
}

void LiveFeed::consume(std::span<const drivers::Sample> samples) {
  const std::lock_guard lock(mutex_);
  pending_.samples.insert(pending_.samples.end(), samples.begin(), samples.end());
}

LiveFeed::Update LiveFeed::take() {
  Update update;
  {
    const std::lock_guard lock(mutex_);
    std::swap(update, pending_);
  }
  return update;
}

LiveCurves::LiveCurves(QWidget* parent) : QWidget(parent) {
  auto* time_chart = new QChart;
  time_chart->setTitle(tr("Torque over time"));
  time_axis_ = axis(time_chart, Qt::AlignBottom, tr("Time (s)"), "%.0f");
  torque_axis_ = axis(time_chart, Qt::AlignLeft, tr("Torque (N·m)"), "%.0f");
  torque_time_ = new QLineSeries;
  torque_time_->setPen(QPen(palette::kBlue, 1.5));
  time_chart->addSeries(torque_time_);
  torque_time_->attachAxis(time_axis_);
  torque_time_->attachAxis(torque_axis_);
  torque_time_->setUseOpenGL(false);

  auto* angle_chart = new QChart;
  angle_chart->setTitle(tr("Torque against angle (last %1 s)").arg(angle_window_seconds_));
  angle_axis_ = axis(angle_chart, Qt::AlignBottom, tr("Knee flexion (°)"), "%.0f");
  torque_axis2_ = axis(angle_chart, Qt::AlignLeft, tr("Torque (N·m)"), "%.0f");
  torque_angle_ = new QLineSeries;
  torque_angle_->setPen(QPen(palette::kVermillion, 1.5));
  angle_chart->addSeries(torque_angle_);
  torque_angle_->attachAxis(angle_axis_);
  torque_angle_->attachAxis(torque_axis2_);

  time_view_ = new_view(time_chart);
  angle_view_ = new_view(angle_chart);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(time_view_, 3);
  layout->addWidget(angle_view_, 2);

  for (QValueAxis* a : {torque_axis_, torque_axis2_, angle_axis_}) {
    a->setTickType(QValueAxis::TicksDynamic);
    a->setTickAnchor(0.0);
    a->setTickInterval(a == angle_axis_ ? 10.0 : 50.0);
  }
  time_axis_->setRange(0, window_seconds_);
  torque_axis_->setRange(-torque_extent_, torque_extent_);
  angle_axis_->setRange(0, 100);
  torque_axis2_->setRange(-torque_extent_, torque_extent_);
  timer_.setInterval(kRedrawMs);
  connect(&timer_, &QTimer::timeout, this, &LiveCurves::redraw);
}

void LiveCurves::follow(LiveFeed* feed) {
  feed_ = feed;
  if (feed_ != nullptr) {
    timer_.start();
  } else {
    timer_.stop();
  }
}

void LiveCurves::start_set(const acquisition::SetInfo& set) {
  time_.clear();
  torque_.clear();
  angle_.clear();
  peak_ = 0.0;
  torque_extent_ = 50.0;
  const auto& sp = set.setpoint;
  angle_axis_->setTitleText(sp.joint == drivers::Joint::kTrunk ? tr("Trunk flexion (°)")
                                                               : tr("Knee flexion (°)"));
  const double low = std::min(sp.angle_min, sp.angle_max);
  const double high = std::max(sp.angle_min, sp.angle_max);
  if (high > low)
    angle_axis_->setRange(std::floor((low - 5) / 10) * 10, std::ceil((high + 5) / 10) * 10);
  const QColor colour = palette::side_colour(sp.side);
  torque_time_->setPen(QPen(colour, 1.5));
  torque_angle_->setPen(QPen(colour, 1.5));
}

void LiveCurves::append(std::span<const drivers::Sample> samples) {
  for (const drivers::Sample& s : samples) {
    time_.push_back(s.time);
    torque_.push_back(s.torque);
    angle_.push_back(s.angle);
    if (std::isfinite(s.torque)) peak_ = std::max(peak_, std::abs(s.torque));
  }
}

void LiveCurves::redraw() {
  if (feed_ != nullptr) {
    LiveFeed::Update update = feed_->take();
    if (update.new_set) start_set(update.set);
    if (update.samples.empty() && !update.new_set) return;  // nothing new: no repaint
    append(update.samples);
  }
  update_series();
}

void LiveCurves::show_samples(const acquisition::SetInfo& set,
                              std::span<const drivers::Sample> samples) {
  start_set(set);
  append(samples);
  update_series();
}

void LiveCurves::update_series() {
  if (time_.empty()) {
    torque_time_->clear();
    torque_angle_->clear();
    return;
  }
  const double now = time_.back();
  const double from = std::max(time_.front(), now - window_seconds_);
  const auto first =
      static_cast<std::size_t>(std::lower_bound(time_.begin(), time_.end(), from) - time_.begin());
  const std::size_t n = time_.size() - first;
  const auto columns =
      static_cast<std::size_t>(std::max(2, time_view_->chart()->plotArea().toRect().width()));
  torque_time_->replace(decimate_min_max(std::span(time_).subspan(first, n),
                                         std::span(torque_).subspan(first, n), columns));
  const double start = std::max(0.0, now - window_seconds_);
  time_axis_->setRange(start, start + window_seconds_);

  const double angle_from = now - angle_window_seconds_;
  const auto angle_first = static_cast<std::size_t>(
      std::lower_bound(time_.begin(), time_.end(), angle_from) - time_.begin());
  const std::size_t count = time_.size() - angle_first;
  const std::size_t stride = std::max<std::size_t>(1, count / kAnglePoints);
  QList<QPointF> loop;
  loop.reserve(static_cast<qsizetype>(count / stride + 1));
  for (std::size_t i = angle_first; i < time_.size(); i += stride) {
    if (std::isfinite(angle_[i]) && std::isfinite(torque_[i])) loop.append({angle_[i], torque_[i]});
  }
  torque_angle_->replace(loop);

  if (peak_ * 1.1 > torque_extent_) {
    torque_extent_ = std::ceil(peak_ * 1.1 / 50.0) * 50.0;
    torque_axis_->setRange(-torque_extent_, torque_extent_);
    torque_axis2_->setRange(-torque_extent_, torque_extent_);
    const double step = torque_extent_ > 200 ? 100.0 : 50.0;
    for (QValueAxis* a : {torque_axis_, torque_axis2_}) a->setTickInterval(step);
  }
}

}  // namespace isokin::gui
