#include "isokin/gui/session_chart.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include <QCategoryAxis>
#include <QGraphicsLayout>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>

#include "isokin/gui/decimation.h"

namespace isokin::gui {

namespace {

using acquisition::RecordedSet;
using acquisition::SetSignals;

constexpr auto kRefreshDelay = std::chrono::milliseconds(33);  // coalesces resizes to <= 30 Hz
// Grid density, in pixels of widget per grid step.
constexpr double kPixelsPerTimeTick = 110.0;
constexpr double kPixelsPerValueTick = 55.0;

QString format_velocity(double velocity) {
  return QString::number(velocity, 'g', 4);
}

// Smallest 1, 2 or 5 × 10^k step giving at most `max_steps` steps over `span`.
double nice_step(double span, double max_steps) {
  const double raw = span / std::max(1.0, max_steps);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double mantissa : {1.0, 2.0, 5.0}) {
    if (mantissa * magnitude >= raw) return mantissa * magnitude;
  }
  return 10.0 * magnitude;
}

// Shows exactly [low, high], with grid lines at round values so the labels stay short.
void set_axis_range(QValueAxis& axis, double low, double high, double pixels,
                    double pixels_per_tick) {
  if (!(high > low)) {  // flat or empty signal: give it some room
    low -= 1.0;
    high += 1.0;
  }
  const double step = nice_step(high - low, pixels / pixels_per_tick);
  axis.setRange(low, high);
  axis.setTickType(QValueAxis::TicksDynamic);
  axis.setTickAnchor(0.0);
  axis.setTickInterval(step);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step))));
  axis.setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
}

struct Extent {
  double low = 0.0;
  double high = 0.0;
};

Extent y_extent(const QList<QPointF>& points) {
  if (points.isEmpty()) return {};
  const auto [low, high] =
      std::minmax_element(points.begin(), points.end(),
                          [](const QPointF& a, const QPointF& b) { return a.y() < b.y(); });
  return {low->y(), high->y()};
}

Extent padded(Extent extent, double fraction) {
  const double margin = (extent.high - extent.low) * fraction;
  return {extent.low - margin, extent.high + margin};
}

double duration(const SetSignals& samples) {
  return samples.size() < 2 ? 0.0 : samples.time.back() - samples.time.front();
}

QValueAxis* make_value_axis(const QString& title, const QColor& color) {
  auto* axis = new QValueAxis;
  axis->setTitleText(title);
  QFont font = axis->titleFont();
  font.setBold(false);
  font.setPointSizeF(10.0);
  axis->setTitleFont(font);
  if (color.isValid()) {
    // Colouring each value axis like its curve tells which scale belongs to which curve.
    axis->setTitleBrush(color);
    axis->setLabelsColor(color);
    axis->setLinePen(QPen(color, 1.0));
  }
  axis->setGridLinePen(QPen(QColor(0xdd, 0xdd, 0xdd), 1.0));
  axis->setMinorGridLineVisible(false);
  return axis;
}

QLineSeries* make_series(const QString& name, const QColor& color) {
  auto* series = new QLineSeries;
  series->setName(name);
  series->setPen(QPen(color, 1.5));
  return series;
}

void check_set(const acquisition::Session& session, int set) {
  const auto count = static_cast<int>(session.sets.size());
  if (set != SessionChartView::kAllSets && (set < 0 || set >= count)) {
    throw std::out_of_range("SessionChartView: no set " + std::to_string(set) +
                            " (the session has " + std::to_string(count) + ")");
  }
}

}  // namespace

QString set_label(const RecordedSet& set) {
  const auto& setpoint = set.info.setpoint;
  QString velocity = setpoint.extension_velocity == setpoint.flexion_velocity
                         ? format_velocity(setpoint.extension_velocity)
                         : format_velocity(setpoint.extension_velocity) + "/" +
                               format_velocity(setpoint.flexion_velocity);
  QString label = QStringLiteral("Set %1 · %2 %3 · %4 °/s")
                      .arg(set.info.index + 1)
                      .arg(QString::fromUtf8(drivers::to_string(setpoint.side)))
                      .arg(QString::fromUtf8(drivers::to_string(setpoint.joint)))
                      .arg(velocity);
  if (!set.stats.complete) label += QStringLiteral(" · interrupted");
  return label;
}

SessionChartView::SessionChartView(QWidget* parent)
    // Handing the chart to the base constructor spares the default chart that setChart() would
    // orphan. The view owns the chart.
    : QChartView(new QChart, parent),
      chart_(QChartView::chart()),
      torque_(make_series(tr("Torque"), kTorqueColor)),
      angle_(make_series(tr("Angle"), kAngleColor)),
      time_axis_(make_value_axis(tr("Time (s)"), QColor())),
      torque_axis_(make_value_axis(tr("Torque (N·m)"), kTorqueColor)),
      angle_axis_(make_value_axis(tr("Angle (°)"), kAngleColor)),
      set_axis_(new QCategoryAxis) {
  setFrameShape(QFrame::NoFrame);
  setRenderHint(QPainter::Antialiasing);
  setMinimumSize(480, 320);

  chart_->setMargins(QMargins(8, 4, 8, 4));
  chart_->layout()->setContentsMargins(0, 0, 0, 0);  // fill the widget, no card around the chart
  chart_->setBackgroundRoundness(0.0);
  chart_->legend()->setAlignment(Qt::AlignBottom);
  chart_->legend()->setReverseMarkers(true);  // torque first, though it is added last
  QFont title_font = chart_->titleFont();
  title_font.setPointSizeF(12.0);
  title_font.setBold(true);
  chart_->setTitleFont(title_font);

  // Later series draw on top: torque, the measurement that matters, goes last.
  chart_->addSeries(angle_);
  chart_->addSeries(torque_);
  chart_->addAxis(time_axis_, Qt::AlignBottom);
  chart_->addAxis(set_axis_, Qt::AlignTop);
  chart_->addAxis(torque_axis_, Qt::AlignLeft);
  chart_->addAxis(angle_axis_, Qt::AlignRight);
  for (QLineSeries* series : {torque_, angle_}) {
    series->attachAxis(time_axis_);
    series->attachAxis(set_axis_);
  }
  torque_->attachAxis(torque_axis_);
  angle_->attachAxis(angle_axis_);
  // Two value axes with their own grids would draw two unrelated grids over one another.
  angle_axis_->setGridLineVisible(false);

  // The set axis names each set above its stretch of the plot. Its own grid would also draw
  // lines over the first and last value axes, so boundaries are separate dashed series.
  set_axis_->setLabelsPosition(QCategoryAxis::AxisLabelsPositionCenter);
  set_axis_->setGridLineVisible(false);
  set_axis_->setLineVisible(false);
  set_axis_->setVisible(false);

  refresh_timer_.setSingleShot(true);
  refresh_timer_.setInterval(kRefreshDelay);
  connect(&refresh_timer_, &QTimer::timeout, this, &SessionChartView::refresh);
  // A new plot width (the axis labels took more or less room) needs another decimation; checking
  // the width keeps a refresh from scheduling itself forever.
  connect(chart_, &QChart::plotAreaChanged, this, [this] {
    if (plot_columns() != decimated_columns_) schedule_refresh();
  });

  clear(tr("No session loaded"));
}

void SessionChartView::set_session(std::shared_ptr<const acquisition::Session> session, int set) {
  if (!session) {
    clear(tr("No session loaded"));
    return;
  }
  check_set(*session, set);  // before anything changes: segments_ point into the old session
  session_ = std::move(session);
  show_set(set);
}

void SessionChartView::clear(const QString& hint) {
  session_.reset();
  shown_set_ = kAllSets;
  segments_.clear();
  show_segments(hint, tr("Time (s)"));
  Q_EMIT shown_set_changed(shown_set_);
}

void SessionChartView::show_set(int set) {
  if (!session_) throw std::out_of_range("SessionChartView: no session to show a set of");
  check_set(*session_, set);
  const int count = static_cast<int>(session_->sets.size());

  shown_set_ = set;
  segments_.clear();
  if (set != kAllSets) {
    const RecordedSet& recorded = session_->sets[static_cast<std::size_t>(set)];
    segments_.push_back({&recorded.signals, 0.0});
    show_segments(set_label(recorded), tr("Time (s)"));
  } else {
    // Sets back to back: each one starts where the previous one ended.
    double start = 0.0;
    for (const RecordedSet& recorded : session_->sets) {
      if (recorded.signals.size() == 0) continue;
      segments_.push_back({&recorded.signals, start - recorded.signals.time.front()});
      start += duration(recorded.signals);
    }
    const QString title =
        tr("All sets (%1)").arg(count) +
        (session_->info.protocol_name.empty()
             ? QString()
             : QStringLiteral(" · ") + QString::fromStdString(session_->info.protocol_name));
    show_segments(title, tr("Time (s), sets back to back"));
  }
  Q_EMIT shown_set_changed(shown_set_);
}

void SessionChartView::show_segments(const QString& title, const QString& time_title) {
  chart_->setTitle(title);
  time_axis_->setTitleText(time_title);

  for (const QString& label : set_axis_->categoriesLabels()) set_axis_->remove(label);
  for (QLineSeries* boundary : boundaries_) {
    chart_->removeSeries(boundary);
    delete boundary;
  }
  boundaries_.clear();

  const bool all_sets = shown_set_ == kAllSets && session_;
  if (all_sets) {
    set_axis_->setStartValue(0.0);
    std::size_t segment = 0;
    for (const RecordedSet& recorded : session_->sets) {
      if (recorded.signals.size() == 0) continue;
      const Segment& placed = segments_[segment++];
      set_axis_->append(set_label(recorded), recorded.signals.time.back() + placed.offset);
      if (segment == 1) continue;  // no boundary before the first set
      auto* boundary = new QLineSeries;
      boundary->setPen(QPen(QColor(0x44, 0x44, 0x44), 1.0, Qt::DashLine));
      chart_->addSeries(boundary);
      boundary->attachAxis(time_axis_);
      boundary->attachAxis(torque_axis_);
      for (QLegendMarker* marker : chart_->legend()->markers(boundary)) marker->setVisible(false);
      boundaries_.push_back(boundary);
    }
  }
  set_axis_->setVisible(all_sets);
  refresh();
}

void SessionChartView::refresh() {
  refresh_timer_.stop();
  const std::size_t columns = plot_columns();
  decimated_columns_ = columns;

  double total = 0.0;
  for (const Segment& segment : segments_) total += duration(*segment.samples);

  QList<QPointF> torque;
  QList<QPointF> angle;
  for (const Segment& segment : segments_) {
    const SetSignals& samples = *segment.samples;
    // Each set gets a share of the plot width proportional to its duration.
    const auto share = total > 0.0 ? static_cast<std::size_t>(std::lround(
                                         static_cast<double>(columns) * duration(samples) / total))
                                   : columns;
    const std::size_t set_columns = std::max<std::size_t>(share, 1);
    QList<QPointF> set_torque = decimate_min_max(samples.time, samples.torque, set_columns);
    QList<QPointF> set_angle = decimate_min_max(samples.time, samples.angle, set_columns);
    for (QPointF& point : set_torque) point.rx() += segment.offset;
    for (QPointF& point : set_angle) point.rx() += segment.offset;
    torque.append(set_torque);
    angle.append(set_angle);
  }
  torque_->replace(torque);
  angle_->replace(angle);

  // Ranges come from the decimated curves: min/max decimation keeps every extreme.
  const QSizeF pixels = viewport()->size();
  if (torque.isEmpty()) {
    set_axis_range(*time_axis_, 0.0, 10.0, pixels.width(), kPixelsPerTimeTick);
    set_axis_range(*torque_axis_, -100.0, 100.0, pixels.height(), kPixelsPerValueTick);
    set_axis_range(*angle_axis_, 0.0, 100.0, pixels.height(), kPixelsPerValueTick);
  } else {
    const Extent torque_extent = padded(y_extent(torque), 0.05);
    const Extent angle_extent = padded(y_extent(angle), 0.05);
    set_axis_range(*time_axis_, torque.front().x(), torque.back().x(), pixels.width(),
                   kPixelsPerTimeTick);
    set_axis_range(*torque_axis_, torque_extent.low, torque_extent.high, pixels.height(),
                   kPixelsPerValueTick);
    set_axis_range(*angle_axis_, angle_extent.low, angle_extent.high, pixels.height(),
                   kPixelsPerValueTick);
  }
  set_axis_->setRange(time_axis_->min(), time_axis_->max());
  for (std::size_t i = 0; i < boundaries_.size(); ++i) {
    const Segment& next = segments_[i + 1];
    const double start = next.samples->time.front() + next.offset;
    boundaries_[i]->replace({{start, torque_axis_->min()}, {start, torque_axis_->max()}});
  }
}

void SessionChartView::resizeEvent(QResizeEvent* event) {
  QChartView::resizeEvent(event);
  schedule_refresh();
}

void SessionChartView::schedule_refresh() {
  // Grid density follows the widget size, so re-run even when the column count is unchanged.
  if (!refresh_timer_.isActive()) refresh_timer_.start();
}

std::size_t SessionChartView::plot_columns() const {
  const double width = chart_->plotArea().width() > 1.0 ? chart_->plotArea().width()
                                                        : static_cast<double>(viewport()->width());
  return static_cast<std::size_t>(std::max(1.0, std::ceil(width * devicePixelRatioF())));
}

}  // namespace isokin::gui
