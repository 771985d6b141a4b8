#include "isokin/gui/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <QAbstractTextDocumentLayout>
#include <QChart>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGraphicsScene>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMessageBox>
#include <QPainter>
#include <QPdfWriter>
#include <QPushButton>
#include <QScatterSeries>
#include <QSettings>
#include <QTextBrowser>
#include <QTextDocument>
#include <QUrl>
#include <QVBoxLayout>
#include <QValueAxis>

#include "isokin/gui/palette.h"

namespace isokin::gui {
namespace {

using acquisition::Session;
using analysis::MovementSummary;
using analysis::SessionAnalysis;
using analysis::SetAnalysis;
using drivers::Side;

const QString kDash = QStringLiteral("—");

QString number(double value, int decimals) {
  if (!std::isfinite(value)) return kDash;
  QString text = QString::number(value, 'f', decimals);
  // -0.0 reads as a sign that is not there (a work fatigue of -0.03 % shown to one decimal).
  const QString magnitude = text.mid(1);
  if (text.startsWith(QLatin1Char('-')) &&
      magnitude.count(QLatin1Char('0')) + magnitude.count(QLatin1Char('.')) == magnitude.size()) {
    text = magnitude;
  }
  return text;
}

QString text(std::string_view s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())).toHtmlEscaped();
}

QString side_name(Side side) {
  switch (side) {
    case Side::kLeft:
      return QStringLiteral("Left");
    case Side::kRight:
      return QStringLiteral("Right");
    case Side::kNone:
      break;
  }
  return QStringLiteral("Trunk");
}

QString velocity_text(double velocity) {
  return QStringLiteral("%1 °/s").arg(velocity, 0, 'f', 0);
}

// "Quadriceps (con)": short enough for a table column on A4.
QString muscle_text(const std::string& muscle, drivers::Contraction contraction) {
  QString name = QString::fromStdString(muscle).toHtmlEscaped();
  if (!name.isEmpty()) name[0] = name[0].toUpper();
  const std::string_view mode = drivers::to_string(contraction);
  return QStringLiteral("%1&nbsp;(%2)").arg(name, QString::fromUtf8(mode.substr(0, 3).data(), 3));
}

QString capitalised(QString s) {
  if (!s.isEmpty()) s[0] = s[0].toUpper();
  return s;
}

bool is_test(const SetAnalysis& set) {
  return set.kind == acquisition::kSetKindTest;
}
bool is_isometric(const SetAnalysis& set) {
  return set.mode == drivers::ContractionMode::kIsometric;
}

QString joint_axis_title(drivers::Joint joint) {
  return joint == drivers::Joint::kTrunk ? QStringLiteral("Trunk flexion (°)")
                                         : QStringLiteral("Knee flexion (°)");
}

// The best repetition's torque–angle curve, as magnitude (flexor torque is negative).
QList<QPointF> best_curve(const MovementSummary& movement, double step) {
  QList<QPointF> points;
  if (movement.best_repetition < 0 ||
      movement.best_repetition >= static_cast<int>(movement.repetitions.size())) {
    return points;
  }
  const auto& rep = movement.repetitions[static_cast<std::size_t>(movement.best_repetition)];
  for (std::size_t i = 0; i < rep.torque_curve.size(); ++i) {
    const double torque = rep.torque_curve[i];
    if (std::isfinite(torque)) {
      points.append({rep.curve_start_angle + static_cast<double>(i) * step, std::abs(torque)});
    }
  }
  return points;
}

QValueAxis* add_axis(QChart& chart, Qt::Alignment where, const QString& title) {
  auto* axis = new QValueAxis;
  axis->setTitleText(title);
  axis->setLabelFormat(QStringLiteral("%.0f"));
  QFont font = axis->labelsFont();
  font.setPointSizeF(9.0);
  axis->setLabelsFont(font);
  font.setPointSizeF(10.0);
  axis->setTitleFont(font);
  chart.addAxis(axis, where);
  return axis;
}

void attach(QChart& chart, QAbstractSeries* series, QValueAxis* x, QValueAxis* y) {
  chart.addSeries(series);
  series->attachAxis(x);
  series->attachAxis(y);
}

std::unique_ptr<QChart> new_chart(const QString& title) {
  auto chart = std::make_unique<QChart>();
  chart->setTitle(title);
  QFont font = chart->titleFont();
  font.setPointSizeF(11.0);
  font.setBold(true);
  chart->setTitleFont(font);
  chart->legend()->setAlignment(Qt::AlignBottom);
  // Legend entries drawn as the series' own line (colour and dash), not a colour square.
  chart->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);
  font.setBold(false);
  font.setPointSizeF(9.0);
  chart->legend()->setFont(font);
  chart->setBackgroundRoundness(0);
  chart->setMargins(QMargins(4, 4, 4, 4));
  return chart;
}

// Rounds an axis range outward to a multiple of `step`, never below zero for magnitudes.
void nice_range(QValueAxis* axis, double low, double high, double step) {
  if (!(high > low)) high = low + step;
  axis->setRange(std::floor(low / step) * step, std::ceil(high / step) * step);
  axis->setTickType(QValueAxis::TicksDynamic);
  axis->setTickAnchor(0.0);
  axis->setTickInterval(step);
}

// What each chart shows; built on demand so a chart can be made for screen, PNG or PDF.
enum class ChartKind { kTorqueAngle, kPeakPerRepetition, kAngleSpecificHq };
struct ChartPlan {
  ChartKind kind;
  double velocity = 0.0;                                       // torque–angle
  drivers::Movement movement = drivers::Movement::kExtension;  // per repetition
  QString title;
};

std::vector<ChartPlan> plan_charts(const SessionAnalysis& analysis) {
  std::vector<ChartPlan> plans;
  std::set<double> velocities;
  bool any_moving = false;
  for (const auto& set : analysis.sets) {
    if (!is_test(set) || is_isometric(set)) continue;
    any_moving = true;
    velocities.insert(set.velocity);
  }
  const drivers::Joint joint =
      analysis.sets.empty() ? drivers::Joint::kKnee : analysis.sets.front().joint;
  const bool knee = joint == drivers::Joint::kKnee;
  for (const double v : velocities) {
    plans.push_back(
        {ChartKind::kTorqueAngle, v, drivers::Movement::kExtension,
         QStringLiteral("Torque–angle curves, best repetitions, %1").arg(velocity_text(v))});
  }
  if (any_moving) {
    plans.push_back({ChartKind::kPeakPerRepetition, 0.0, drivers::Movement::kExtension,
                     QStringLiteral("Peak torque per repetition: %1")
                         .arg(knee ? QStringLiteral("quadriceps") : QStringLiteral("extensors"))});
    plans.push_back({ChartKind::kPeakPerRepetition, 0.0, drivers::Movement::kFlexion,
                     QStringLiteral("Peak torque per repetition: %1")
                         .arg(knee ? QStringLiteral("hamstrings") : QStringLiteral("flexors"))});
  }
  const bool any_curve =
      std::any_of(analysis.ratios.begin(), analysis.ratios.end(),
                  [](const auto& r) { return r.kind == "conventional_hq" && !r.curve.empty(); });
  if (any_curve) {
    plans.push_back({ChartKind::kAngleSpecificHq, 0.0, drivers::Movement::kExtension,
                     QStringLiteral("Angle-specific conventional H:Q")});
  }
  return plans;
}

Qt::PenStyle velocity_style(int rank) {
  static constexpr Qt::PenStyle kStyles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine,
                                             Qt::DashDotLine};
  return kStyles[rank % 4];
}

std::unique_ptr<QChart> torque_angle_chart(const ChartPlan& plan, const SessionAnalysis& analysis) {
  auto chart = new_chart(plan.title);
  double max_torque = 0.0, min_angle = 1e9, max_angle = -1e9;
  std::vector<QLineSeries*> series;
  drivers::Joint joint = drivers::Joint::kKnee;
  for (const auto& set : analysis.sets) {
    if (!is_test(set) || is_isometric(set) || set.velocity != plan.velocity) continue;
    joint = set.joint;
    for (const MovementSummary* movement : {&set.extension, &set.flexion}) {
      const QList<QPointF> points = best_curve(*movement, analysis.settings.angle_curve_step);
      if (points.isEmpty()) continue;
      auto* line = new QLineSeries;
      line->setName(QStringLiteral("%1 %2").arg(side_name(set.side),
                                                QString::fromStdString(movement->muscle_group)));
      line->append(points);
      QPen pen(palette::side_colour(set.side, movement == &set.flexion));
      pen.setWidthF(2.2);
      pen.setStyle(movement == &set.extension ? Qt::SolidLine : Qt::DashLine);
      line->setPen(pen);
      for (const QPointF& p : points) {
        max_torque = std::max(max_torque, p.y());
        min_angle = std::min(min_angle, p.x());
        max_angle = std::max(max_angle, p.x());
      }
      series.push_back(line);
    }
  }
  QValueAxis* x = add_axis(*chart, Qt::AlignBottom, joint_axis_title(joint));
  QValueAxis* y = add_axis(*chart, Qt::AlignLeft, QStringLiteral("Torque (N·m)"));
  for (auto* s : series) attach(*chart, s, x, y);
  nice_range(x, series.empty() ? 0.0 : min_angle, series.empty() ? 90.0 : max_angle, 10.0);
  nice_range(y, 0.0, max_torque * 1.05, 50.0);
  return chart;
}

std::unique_ptr<QChart> per_repetition_chart(const ChartPlan& plan,
                                             const SessionAnalysis& analysis) {
  auto chart = new_chart(plan.title);
  std::set<double> velocities;
  for (const auto& set : analysis.sets) {
    if (is_test(set) && !is_isometric(set)) velocities.insert(set.velocity);
  }
  double max_torque = 0.0;
  int max_reps = 1;
  std::vector<QAbstractSeries*> series;
  for (const auto& set : analysis.sets) {
    if (!is_test(set) || is_isometric(set)) continue;
    const MovementSummary& movement =
        plan.movement == drivers::Movement::kExtension ? set.extension : set.flexion;
    if (movement.repetitions.empty()) continue;
    const int rank =
        static_cast<int>(std::distance(velocities.begin(), velocities.find(set.velocity)));
    auto* line = new QLineSeries;
    line->setName(QStringLiteral("%1 %2").arg(side_name(set.side), velocity_text(set.velocity)));
    QPen pen(palette::side_colour(set.side, plan.movement == drivers::Movement::kFlexion));
    pen.setWidthF(2.0);
    pen.setStyle(velocity_style(rank));
    line->setPen(pen);
    line->setPointsVisible(true);
    // The counted repetitions, numbered 1, 2, … as the test counts them (a positioning move
    // before them is listed in "Movements not counted", not here).
    int counted = 0;
    for (const auto& rep : movement.repetitions) {
      if ((rep.flags & analysis::kPhaseTruncated) != 0 || !analysis::counts(rep.role)) continue;
      ++counted;
      line->append(counted, std::abs(rep.peak_torque));
      max_torque = std::max(max_torque, std::abs(rep.peak_torque));
      max_reps = std::max(max_reps, counted);
    }
    series.push_back(line);
  }
  QValueAxis* x = add_axis(*chart, Qt::AlignBottom, QStringLiteral("Repetition"));
  QValueAxis* y = add_axis(*chart, Qt::AlignLeft, QStringLiteral("Peak torque (N·m)"));
  for (auto* s : series) attach(*chart, s, x, y);
  x->setRange(0.5, max_reps + 0.5);
  x->setTickType(QValueAxis::TicksDynamic);
  x->setTickAnchor(1.0);
  x->setTickInterval(std::max(1, max_reps / 10));
  x->setLabelFormat(QStringLiteral("%.0f"));
  nice_range(y, 0.0, max_torque * 1.1, 50.0);
  return chart;
}

std::unique_ptr<QChart> hq_curve_chart(const ChartPlan& plan, const SessionAnalysis& analysis) {
  auto chart = new_chart(plan.title);
  std::set<double> velocities;
  for (const auto& r : analysis.ratios) {
    if (r.kind == "conventional_hq" && !r.curve.empty()) velocities.insert(r.velocity);
  }
  double min_angle = 1e9, max_angle = -1e9, max_ratio = 1.0;
  std::vector<QAbstractSeries*> series;
  for (const auto& r : analysis.ratios) {
    if (r.kind != "conventional_hq" || r.curve.empty()) continue;
    const int rank =
        static_cast<int>(std::distance(velocities.begin(), velocities.find(r.velocity)));
    auto* line = new QLineSeries;
    line->setName(QStringLiteral("%1 %2").arg(side_name(r.side), velocity_text(r.velocity)));
    QPen pen(palette::side_colour(r.side));
    pen.setWidthF(2.0);
    pen.setStyle(velocity_style(rank));
    line->setPen(pen);
    for (std::size_t i = 0; i < r.curve.size(); ++i) {
      if (!std::isfinite(r.curve[i])) continue;
      const double angle = r.curve_start_angle + static_cast<double>(i) * r.curve_step;
      line->append(angle, r.curve[i]);
      min_angle = std::min(min_angle, angle);
      max_angle = std::max(max_angle, angle);
      max_ratio = std::max(max_ratio, std::min(r.curve[i], 3.0));
    }
    series.push_back(line);
  }
  QValueAxis* x = add_axis(*chart, Qt::AlignBottom, QStringLiteral("Knee flexion (°)"));
  QValueAxis* y = add_axis(*chart, Qt::AlignLeft, QStringLiteral("H:Q ratio"));
  y->setLabelFormat(QStringLiteral("%.1f"));
  for (auto* s : series) attach(*chart, s, x, y);
  // The conventional H:Q threshold as a reference line (docs/analysis.md flags).
  auto* band = new QLineSeries;
  band->setName(QStringLiteral("%1 threshold").arg(analysis.settings.flags.conventional_hq_min));
  QPen pen(palette::kGrey);
  pen.setStyle(Qt::DotLine);
  pen.setWidthF(1.5);
  band->setPen(pen);
  nice_range(x, series.empty() ? 0.0 : min_angle, series.empty() ? 90.0 : max_angle, 10.0);
  band->append(x->min(), analysis.settings.flags.conventional_hq_min);
  band->append(x->max(), analysis.settings.flags.conventional_hq_min);
  attach(*chart, band, x, y);
  nice_range(y, 0.0, std::min(max_ratio * 1.05, 3.0), 0.5);
  return chart;
}

// The text of the report's tables. Every number comes from the analysis as computed; the report
// formats, it never computes.
struct Html {
  QString out;
  void add(const QString& s) { out += s; }
  void heading(const QString& s) { out += QStringLiteral("<h3>%1</h3>").arg(s); }
  void table_start(const QStringList& headers) {
    out += QStringLiteral("<table class='data' cellspacing='0' cellpadding='3' width='100%'><tr>");
    for (const auto& h : headers) out += QStringLiteral("<th>%1</th>").arg(h);
    out += QStringLiteral("</tr>");
  }
  void row(const QStringList& cells, const QString& style = {}) {
    out += style.isEmpty() ? QStringLiteral("<tr>") : QStringLiteral("<tr style='%1'>").arg(style);
    for (int i = 0; i < cells.size(); ++i) {
      out += i == 0 ? QStringLiteral("<td>%1</td>").arg(cells[i])
                    : QStringLiteral("<td align='right'>%1</td>").arg(cells[i]);
    }
    out += QStringLiteral("</tr>");
  }
  void table_end() { out += QStringLiteral("</table>"); }
};

QString optional_side(const std::optional<Side>& side, const QString& none) {
  if (!side) return kDash;
  return *side == Side::kNone ? none : side_name(*side).toLower();
}

QString gravity_text(const analysis::GravityEstimate& g) {
  switch (g.mode) {
    case analysis::GravityMode::kOff:
      return QStringLiteral("off (%1)").arg(text(g.reason.empty() ? "not requested" : g.reason));
    case analysis::GravityMode::kGiven:
      return QStringLiteral("given, %1 N·m").arg(number(g.limb_moment, 1));
    case analysis::GravityMode::kFromRest:
      return QStringLiteral("from rest, %1 N·m").arg(number(g.limb_moment, 1));
    case analysis::GravityMode::kFromTrial:
      return QStringLiteral("from passive trial, %1 N·m").arg(number(g.limb_moment, 1));
  }
  return kDash;
}

QString ratio_name(const std::string& kind) {
  if (kind == "conventional_hq") return QStringLiteral("Conventional H:Q");
  if (kind == "functional_hq") return QStringLiteral("Functional H:Q");
  if (kind == "isometric_hq") return QStringLiteral("Isometric H:Q");
  if (kind == "flexor_extensor") return QStringLiteral("Flexor:extensor");
  if (kind == "functional_flexor_extensor") return QStringLiteral("Functional flexor:extensor");
  if (kind == "isometric_flexor_extensor") return QStringLiteral("Isometric flexor:extensor");
  return text(kind);
}

// The normative lower bound of a ratio kind, or NaN when none is documented.
double ratio_threshold(const std::string& kind, const analysis::FlagThresholds& flags) {
  if (kind == "conventional_hq") return flags.conventional_hq_min;
  if (kind == "functional_hq") return flags.functional_hq_min;
  return analysis::kNotAvailable;
}

}  // namespace

Report::Report(AnalysedSession current, ReportOptions options)
    : current_(std::move(current)), options_(std::move(options)) {
  if (!current_.session) throw ReportError("report: no session");
}
Report::~Report() = default;
Report::Report(Report&&) noexcept = default;
Report& Report::operator=(Report&&) noexcept = default;

QStringList Report::chart_titles() const {
  QStringList titles;
  for (const auto& plan : plan_charts(current_.analysis)) titles << plan.title;
  return titles;
}

std::unique_ptr<QChart> Report::make_chart(int index) const {
  const auto plans = plan_charts(current_.analysis);
  if (index < 0 || index >= static_cast<int>(plans.size())) {
    throw ReportError("report: no chart " + std::to_string(index));
  }
  const ChartPlan& plan = plans[static_cast<std::size_t>(index)];
  switch (plan.kind) {
    case ChartKind::kTorqueAngle:
      return torque_angle_chart(plan, current_.analysis);
    case ChartKind::kPeakPerRepetition:
      return per_repetition_chart(plan, current_.analysis);
    case ChartKind::kAngleSpecificHq:
      return hq_curve_chart(plan, current_.analysis);
  }
  return nullptr;
}

QImage Report::render_chart(int index, QSize size, qreal scale) const {
  std::unique_ptr<QChart> chart = make_chart(index);
  QGraphicsScene scene;
  QChart* raw = chart.release();
  scene.addItem(raw);  // the scene owns it now
  raw->setGeometry(QRectF(QPointF(0, 0), size));
  raw->setAnimationOptions(QChart::NoAnimation);
  scene.setSceneRect(QRectF(QPointF(0, 0), size));
  QImage image(size * scale, QImage::Format_ARGB32_Premultiplied);
  image.setDevicePixelRatio(scale);
  image.fill(Qt::white);
  QPainter painter(&image);
  painter.setRenderHint(QPainter::Antialiasing);
  scene.render(&painter, QRectF(QPointF(0, 0), size), scene.sceneRect());
  return image;
}

void Report::save_chart_png(int index, const QString& path, QSize size) const {
  if (!render_chart(index, size, 1.0).save(path, "PNG")) {
    throw ReportError(QStringLiteral("%1: cannot write the image").arg(path).toStdString());
  }
}

QString Report::html(qreal width) const {
  const Session& session = *current_.session;
  const SessionAnalysis& analysis = current_.analysis;
  const auto& subject = session.info.subject;
  const auto& flags = analysis.settings.flags;
  Html h;
  h.add(QStringLiteral(
      "<html><head><style>"
      "body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #111; }"
      "h1 { font-size: 15pt; margin: 0; } h2 { font-size: 12pt; font-weight: normal; "
      "color: #333; margin-top: 2px; } h3 { font-size: 11pt; margin-top: 14px; "
      "margin-bottom: 4px; border-bottom: 1px solid #999; }"
      "table.data { font-size: 9pt; } table.data th { background: #e8e8e8; font-weight: bold; "
      "text-align: right; "
      "border-bottom: 1px solid #666; } table.data td { border-bottom: 1px solid #ddd; }"
      ".flag { color: #a03000; font-weight: bold; } .note { color: #444; font-size: 9pt; }"
      "</style></head><body>"));
  h.add(QStringLiteral("<h1>%1</h1>").arg(options_.lab_name.toHtmlEscaped()));
  const bool trunk =
      !analysis.sets.empty() && analysis.sets.front().joint == drivers::Joint::kTrunk;
  h.add(QStringLiteral("<h2>Isokinetic %1 strength test</h2>")
            .arg(trunk ? QStringLiteral("trunk") : QStringLiteral("knee")));
  if (!session.complete) {
    h.add(
        QStringLiteral("<p class='flag'>Recording incomplete: the session was interrupted; "
                       "results cover the sets recorded.</p>"));
  }
  // Who and how.
  const auto meta = [&](const QString& k1, const QString& v1, const QString& k2,
                        const QString& v2) {
    h.add(QStringLiteral("<tr><td><b>%1</b></td><td>%2</td><td><b>%3</b></td><td>%4</td></tr>")
              .arg(k1, v1, k2, v2));
  };
  h.add(QStringLiteral("<table cellpadding='2' width='100%'>"));
  meta(QStringLiteral("Subject"), text(subject.id), QStringLiteral("Date (UTC)"),
       text(session.info.created_utc));
  meta(QStringLiteral("Body mass"),
       subject.body_mass_kg > 0 ? QStringLiteral("%1 kg").arg(number(subject.body_mass_kg, 1))
                                : kDash,
       QStringLiteral("Protocol"), text(session.info.protocol_name));
  meta(QStringLiteral("Sex"), subject.sex.empty() ? kDash : text(subject.sex),
       QStringLiteral("Device"),
       text(session.info.device.model.empty() ? session.info.device.driver
                                              : session.info.device.model));
  meta(QStringLiteral("Age"), subject.age_years > 0 ? QString::number(subject.age_years) : kDash,
       QStringLiteral("Software"), text(session.info.software));
  meta(QStringLiteral("Sport"), subject.sport.empty() ? kDash : text(subject.sport),
       QStringLiteral("Dominant / injured side"),
       QStringLiteral("%1 / %2").arg(optional_side(subject.dominant_side, kDash),
                                     optional_side(subject.injured_side, QStringLiteral("none"))));
  h.add(QStringLiteral("</table>"));

  // Peak torque, both sides.
  if (!analysis.bilateral.empty()) {
    h.heading(QStringLiteral("Peak torque and bilateral deficit"));
    h.table_start({QStringLiteral("Speed"), QStringLiteral("Muscles"), QStringLiteral("Left (N·m)"),
                   QStringLiteral("Right (N·m)"), QStringLiteral("Deficit (%)"),
                   QStringLiteral("Weaker"), QStringLiteral("LSI (%)")});
    for (const auto& b : analysis.bilateral) {
      const bool flagged = b.deficit_percent > flags.bilateral_deficit_max;
      const QString speed = b.velocity > 0
                                ? velocity_text(b.velocity)
                                : QStringLiteral("isometric %1°").arg(number(b.hold_angle, 0));
      h.row({speed, muscle_text(b.muscle_group, b.contraction), number(b.left_peak_torque, 1),
             number(b.right_peak_torque, 1),
             flagged
                 ? QStringLiteral("<span class='flag'>%1</span>").arg(number(b.deficit_percent, 1))
                 : number(b.deficit_percent, 1),
             side_name(b.weaker_side).toLower(), number(b.limb_symmetry_index, 1)});
    }
    h.table_end();
    h.add(
        QStringLiteral("<p class='note'>Deficit = 100·(stronger − weaker)/stronger; flagged above "
                       "%1 % (Sapega 1990; Impellizzeri et al. 2007). LSI = 100·weaker/stronger."
                       "</p>")
            .arg(number(flags.bilateral_deficit_max, 0)));
  }

  // Every side and speed.
  h.heading(QStringLiteral(
      "Parameters per side and speed (best repetition; work over the counted ones)"));
  h.table_start({QStringLiteral("Muscles"), QStringLiteral("Peak (N·m)"),
                 QStringLiteral("Peak/BM (N·m/kg)"), QStringLiteral("Angle (°)"),
                 QStringLiteral("Total work (J)"), QStringLiteral("Mean power (W)"),
                 QStringLiteral("CV (%)"), QStringLiteral("Work fatigue (%)")});
  for (const auto& set : analysis.sets) {
    if (!is_test(set)) continue;
    const QString name = QStringLiteral("%1 %2").arg(
        side_name(set.side), is_isometric(set)
                                 ? QStringLiteral("isometric %1°").arg(number(set.hold_angle, 0))
                                 : velocity_text(set.velocity));
    h.add(QStringLiteral("<tr><td colspan='8' style='background:#f4f4f4'><b>%1</b>%2</td></tr>")
              .arg(name, set.warnings.empty() ? QString()
                                              : QStringLiteral(" <span class='note'>(%1)</span>")
                                                    .arg(text(set.warnings.front()))));
    for (const MovementSummary* m : {&set.extension, &set.flexion}) {
      if (m->repetitions.empty()) continue;
      const bool cv_high = m->coefficient_of_variation > flags.coefficient_of_variation_max;
      h.row({muscle_text(m->muscle_group, m->contraction), number(std::abs(m->peak_torque), 1),
             subject.body_mass_kg > 0 ? number(std::abs(m->peak_torque_per_body_mass), 2) : kDash,
             number(m->angle_at_peak, 0), number(m->total_work, 1), number(m->mean_power, 1),
             cv_high ? QStringLiteral("<span class='flag'>%1</span>")
                           .arg(number(m->coefficient_of_variation, 1))
                     : number(m->coefficient_of_variation, 1),
             number(m->fatigue.work_fatigue, 1)});
    }
  }
  h.table_end();

  // Every movement that does not count, and why: nothing recorded disappears from the report.
  bool any_not_counted = false;
  for (const auto& set : analysis.sets) {
    for (const MovementSummary* m : {&set.extension, &set.flexion}) {
      for (const auto& rep : m->repetitions) {
        if (analysis::counts(rep.role)) continue;
        if (!any_not_counted) {
          h.heading(QStringLiteral("Movements not counted"));
          h.table_start({QStringLiteral("Set"), QStringLiteral("Movement"),
                         QStringLiteral("Time (s)"), QStringLiteral("Peak (N·m)"),
                         QStringLiteral("Role"), QStringLiteral("Why")});
          any_not_counted = true;
        }
        h.row({QStringLiteral("%1 %2").arg(side_name(set.side), velocity_text(set.velocity)),
               QStringLiteral("%1 %2")
                   .arg(text(std::string(drivers::to_string(rep.movement))))
                   .arg(rep.repetition + 1),
               QStringLiteral("%1–%2").arg(number(rep.start_time, 1), number(rep.end_time, 1)),
               number(std::abs(rep.peak_torque), 1),
               text(std::string(analysis::to_string(rep.role))), text(rep.role_reason)});
      }
    }
  }
  if (any_not_counted) h.table_end();

  // Ratios.
  if (!analysis.ratios.empty()) {
    h.heading(QStringLiteral("Strength ratios"));
    h.table_start({QStringLiteral("Side"), QStringLiteral("Speed"), QStringLiteral("Ratio"),
                   QStringLiteral("Value"), QStringLiteral("Normative"), QStringLiteral("")});
    for (const auto& r : analysis.ratios) {
      const double threshold = ratio_threshold(r.kind, flags);
      const bool low = std::isfinite(threshold) && std::isfinite(r.value) && r.value < threshold;
      h.row({side_name(r.side),
             r.velocity > 0 ? velocity_text(r.velocity)
                            : QStringLiteral("isometric %1°").arg(number(r.hold_angle, 0)),
             ratio_name(r.kind), number(r.value, 2),
             std::isfinite(threshold) ? QStringLiteral("≥ %1").arg(number(threshold, 2)) : kDash,
             low ? QStringLiteral("<span class='flag'>below</span>") : QString()});
    }
    h.table_end();
    h.add(
        QStringLiteral(
            "<p class='note'>Conventional H:Q = concentric hamstrings peak / concentric quadriceps "
            "peak at the same speed (≥ %1: Coombs &amp; Garbutt 2002). Functional H:Q = eccentric "
            "hamstrings / concentric quadriceps (≥ %2: Aagaard et al. 1998).</p>")
            .arg(number(flags.conventional_hq_min, 2), number(flags.functional_hq_min, 2)));
  }

  // Flags.
  h.heading(QStringLiteral("Flags"));
  if (analysis.flags.empty()) {
    h.add(QStringLiteral("<p>No value beyond its documented threshold.</p>"));
  } else {
    h.add(QStringLiteral("<ul>"));
    for (const auto& f : analysis.flags) {
      h.add(QStringLiteral("<li><span class='flag'>%1</span> <span class='note'>(%2)</span></li>")
                .arg(text(f.message), text(f.source)));
    }
    h.add(QStringLiteral("</ul>"));
  }

  // Curves.
  const QStringList titles = chart_titles();
  if (!titles.isEmpty()) {
    for (int i = 0; i < titles.size(); ++i) {
      h.add(QStringLiteral("<p><img src='chart:%1' width='%2'></p>")
                .arg(i)
                .arg(static_cast<int>(width * 0.98)));
    }
  }

  // Progress over earlier sessions.
  if (!options_.earlier.empty() && !analysis.bilateral.empty()) {
    h.heading(QStringLiteral("Progress: peak torque left / right (N·m)"));
    QStringList headers{QStringLiteral("Session")};
    for (const auto& b : analysis.bilateral) {
      headers << QStringLiteral("%1 %2").arg(
          capitalised(text(b.muscle_group)),
          b.velocity > 0 ? velocity_text(b.velocity) : QStringLiteral("isometric"));
    }
    h.table_start(headers);
    const auto add_session_row = [&](const AnalysedSession& s, const QString& suffix) {
      QStringList cells{text(s.session->info.created_utc.substr(0, 10)) + suffix};
      for (const auto& b : analysis.bilateral) {
        const auto match = std::find_if(
            s.analysis.bilateral.begin(), s.analysis.bilateral.end(), [&](const auto& e) {
              return e.velocity == b.velocity && e.muscle_group == b.muscle_group &&
                     e.contraction == b.contraction;
            });
        cells << (match == s.analysis.bilateral.end()
                      ? kDash
                      : QStringLiteral("%1 / %2").arg(number(match->left_peak_torque, 1),
                                                      number(match->right_peak_torque, 1)));
      }
      h.row(cells);
    };
    for (const auto& earlier : options_.earlier) add_session_row(earlier, QString());
    add_session_row(current_, QStringLiteral(" (this)"));
    h.table_end();
  }

  // Method.
  h.heading(QStringLiteral("Method"));
  h.add(QStringLiteral("<p class='note'>Torque low-pass filtered (Butterworth order %1, %2 Hz, "
                       "zero phase). Peak torque from the best repetition; work as ∫τ dθ over "
                       "the movement. Gravity correction per set: ")
            .arg(analysis.settings.filter_order)
            .arg(number(analysis.settings.filter_cutoff_hz, 0)));
  QStringList gravity;
  for (const auto& set : analysis.sets) {
    if (!is_test(set)) continue;
    gravity << QStringLiteral("%1 %2: %3")
                   .arg(side_name(set.side),
                        is_isometric(set) ? QStringLiteral("isometric")
                                          : velocity_text(set.velocity),
                        gravity_text(set.gravity));
  }
  h.add(gravity.join(QStringLiteral("; ")));
  h.add(QStringLiteral(". Every formula: docs/analysis.md.</p>"));
  h.add(QStringLiteral("</body></html>"));
  return h.out;
}

std::unique_ptr<QTextDocument> Report::document(qreal width) const {
  auto doc = std::make_unique<QTextDocument>();
  QFont font(QStringLiteral("DejaVu Sans"));
  font.setPointSizeF(10.0);
  doc->setDefaultFont(font);
  doc->setTextWidth(width);
  const QSize chart_size(static_cast<int>(width * 0.98), static_cast<int>(width * 0.55));
  const int charts = static_cast<int>(chart_titles().size());
  for (int i = 0; i < charts; ++i) {
    doc->addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("chart:%1").arg(i)),
                     render_chart(i, chart_size, 2.0));
  }
  doc->setHtml(html(width));
  return doc;
}

void Report::write_pdf(const QString& path) const {
  {
    QFile probe(path);
    if (!probe.open(QIODevice::WriteOnly)) {
      throw ReportError(QStringLiteral("%1: cannot write the PDF: %2")
                            .arg(path, probe.errorString())
                            .toStdString());
    }
  }
  QPdfWriter pdf(path);
  pdf.setPageSize(QPageSize(options_.page));
  // QTextDocument::print() keeps its own 2 cm margins on every side.
  pdf.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter);
  pdf.setTitle(QStringLiteral("Isokinetic test report — %1")
                   .arg(QString::fromStdString(current_.session->info.subject.id)));
  pdf.setCreator(QStringLiteral("isokin"));
  // Laid out at 96 dpi over the printable width; print() scales it to the page.
  const QRectF page = pdf.pageLayout().paintRect(QPageLayout::Inch);
  const auto doc = document((page.width() - 2 * 2.0 / 2.54) * 96.0);
  doc->print(&pdf);
  if (QFileInfo(path).size() == 0) {
    throw ReportError(QStringLiteral("%1: the PDF is empty").arg(path).toStdString());
  }
}

ReportView::ReportView(QWidget* parent)
    : QWidget(parent),
      browser_(new QTextBrowser),
      chart_picker_(new QComboBox),
      actions_(new QWidget) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout(actions_);
  bar->setContentsMargins(0, 0, 0, 0);
  auto* pdf = new QPushButton(tr("Export &PDF…"));
  auto* png = new QPushButton(tr("Save chart as P&NG…"));
  bar->addWidget(pdf);
  bar->addSpacing(24);
  bar->addWidget(new QLabel(tr("Chart:")));
  bar->addWidget(chart_picker_, 1);
  bar->addWidget(png);
  layout->addWidget(actions_);
  layout->addWidget(browser_, 1);
  browser_->setOpenLinks(false);
  connect(pdf, &QPushButton::clicked, this, &ReportView::export_pdf);
  connect(png, &QPushButton::clicked, this, &ReportView::export_chart);
  clear(tr("No report yet: run a test or open a session."));
}

void ReportView::clear(const QString& hint) {
  report_.reset();
  chart_picker_->clear();
  actions_->setEnabled(false);
  browser_->setHtml(
      QStringLiteral("<p style='color:#555; font-size:12pt'>%1</p>").arg(hint.toHtmlEscaped()));
}

void ReportView::set_report(std::shared_ptr<const Report> report) {
  report_ = std::move(report);
  chart_picker_->clear();
  chart_picker_->addItems(report_->chart_titles());
  actions_->setEnabled(true);
  relayout();
}

void ReportView::relayout() {
  if (!report_) return;
  const qreal width = std::min<qreal>(browser_->viewport()->width() - 24, 900);
  // The browser takes the document's resources and HTML; a fresh document each time.
  auto doc = report_->document(std::max<qreal>(width, 480));
  doc->setParent(browser_);
  browser_->setDocument(doc.release());
}

void ReportView::export_pdf() {
  if (!report_) return;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export report"),
      QString::fromStdString(report_->current().session->info.subject.id) + QStringLiteral(".pdf"),
      tr("PDF (*.pdf)"));
  if (path.isEmpty()) return;
  try {
    report_->write_pdf(path);
    Q_EMIT exported(path);
  } catch (const ReportError& e) {
    QMessageBox::warning(this, tr("Export failed"), QString::fromStdString(e.what()));
  }
}

void ReportView::export_chart() {
  if (!report_ || chart_picker_->currentIndex() < 0) return;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Save chart"), QStringLiteral("chart.png"), tr("PNG image (*.png)"));
  if (path.isEmpty()) return;
  try {
    report_->save_chart_png(chart_picker_->currentIndex(), path);
    Q_EMIT exported(path);
  } catch (const ReportError& e) {
    QMessageBox::warning(this, tr("Export failed"), QString::fromStdString(e.what()));
  }
}

ReportOptions remembered_report_options() {
  ReportOptions options;
  const QSettings settings;
  options.lab_name =
      settings.value(QStringLiteral("report/laboratory"), options.lab_name).toString();
  if (settings.value(QStringLiteral("report/paper")).toString() == QLatin1String("Letter")) {
    options.page = QPageSize::Letter;
  }
  return options;
}

void remember_report_options(const QString& lab_name, QPageSize::PageSizeId page) {
  QSettings settings;
  settings.setValue(QStringLiteral("report/laboratory"), lab_name);
  settings.setValue(QStringLiteral("report/paper"),
                    page == QPageSize::Letter ? QStringLiteral("Letter") : QStringLiteral("A4"));
}

}  // namespace isokin::gui
