#pragma once
// A chart of one recorded session: torque (left axis) and angle (right axis) against time, for one
// set or for all sets back to back with the set boundaries marked. The curves are min/max
// decimated to the plot width, so hours of data draw as fast as seconds.

#include <memory>
#include <vector>

#include <QChartView>
#include <QColor>
#include <QString>
#include <QTimer>

#include "isokin/acquisition/session.h"

class QCategoryAxis;
class QLineSeries;
class QValueAxis;

namespace isokin::gui {

// Short human name of a set, as used in titles and pickers: "Set 2 · left knee · 60 °/s".
[[nodiscard]] QString set_label(const acquisition::RecordedSet& set);

class SessionChartView : public QChartView {
  Q_OBJECT

 public:
  static constexpr int kAllSets = -1;
  // Fixed so that the two curves stay recognisable (and tests can find them in a rendering).
  static inline const QColor kTorqueColor{0x1f, 0x77, 0xb4};  // blue
  static inline const QColor kAngleColor{0xd6, 0x5f, 0x00};   // orange

  explicit SessionChartView(QWidget* parent = nullptr);

  // Shows `set` (an index into session->sets, or kAllSets) of a session; nullptr clears the chart.
  // Throws std::out_of_range for a set the session does not have.
  void set_session(std::shared_ptr<const acquisition::Session> session, int set = kAllSets);
  // Empty chart whose title tells the user what to do, e.g. "Open a session file".
  void clear(const QString& hint);
  // Throws std::out_of_range when there is no session or no such set.
  void show_set(int set);

  [[nodiscard]] const std::shared_ptr<const acquisition::Session>& session() const noexcept {
    return session_;
  }
  [[nodiscard]] int shown_set() const noexcept { return shown_set_; }

  // Re-decimates for the current plot size now. Resizes do it on their own, coalesced to at most
  // ~30 per second; call this before grabbing a freshly laid out widget.
  void refresh();

 Q_SIGNALS:
  void shown_set_changed(int set);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  // One set's place on the time axis: its samples are drawn at time + offset.
  struct Segment {
    const acquisition::SetSignals* samples;
    double offset;
  };

  void show_segments(const QString& title, const QString& time_title);
  void schedule_refresh();
  [[nodiscard]] std::size_t plot_columns() const;

  QChart* chart_;
  QLineSeries* torque_;
  QLineSeries* angle_;
  QValueAxis* time_axis_;
  QValueAxis* torque_axis_;
  QValueAxis* angle_axis_;
  QCategoryAxis* set_axis_;               // top axis naming the sets in the all-sets view
  std::vector<QLineSeries*> boundaries_;  // dashed line where set k >= 1 starts
  QTimer refresh_timer_;

  std::shared_ptr<const acquisition::Session> session_;
  int shown_set_ = kAllSets;
  std::vector<Segment> segments_;
  std::size_t decimated_columns_ = 0;  // plot width the series were last decimated for
};

}  // namespace isokin::gui
