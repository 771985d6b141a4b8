#pragma once
// The report a clinician hands to a physician: who was tested and how, peak torque per side and
// speed with the bilateral deficit, conventional/functional H:Q against their normative bands,
// flags with their sources, the best repetitions' torque–angle curves left against right, the
// fatigue curve, and progress against the subject's earlier sessions. One document serves the
// screen (ReportView) and the PDF, so what is printed is what was seen.

#include <memory>
#include <stdexcept>
#include <vector>

#include <QImage>
#include <QPageSize>
#include <QString>
#include <QStringList>
#include <QWidget>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/session_analysis.h"

class QChart;
class QComboBox;
class QTextBrowser;
class QTextDocument;

namespace isokin::gui {

struct AnalysedSession {
  std::shared_ptr<const acquisition::Session> session;
  analysis::SessionAnalysis analysis;
};

struct ReportOptions {
  QString lab_name = QStringLiteral("isokin laboratory");
  QPageSize::PageSizeId page = QPageSize::A4;  // or QPageSize::Letter
  // Earlier sessions of the same subject, oldest first: the progress table.
  std::vector<AnalysedSession> earlier;
};

// The laboratory name and paper size last chosen (QSettings "report/laboratory", "report/paper"),
// or the defaults: the report looks the same from one run to the next, with or without a window.
ReportOptions remembered_report_options();
void remember_report_options(const QString& lab_name, QPageSize::PageSizeId page);

class ReportError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Report {
 public:
  Report(AnalysedSession current, ReportOptions options);
  ~Report();
  Report(Report&&) noexcept;
  Report& operator=(Report&&) noexcept;

  // The charts, each as a new QChart the caller owns, in report order.
  [[nodiscard]] QStringList chart_titles() const;
  [[nodiscard]] std::unique_ptr<QChart> make_chart(int index) const;
  [[nodiscard]] QImage render_chart(int index, QSize size, qreal scale = 2.0) const;

  // The whole report laid out for a text width of `width` pixels (screen) or a page (PDF).
  [[nodiscard]] std::unique_ptr<QTextDocument> document(qreal width) const;
  // Throws ReportError naming the path when the PDF cannot be written.
  void write_pdf(const QString& path) const;
  // Throws ReportError when the image cannot be written.
  void save_chart_png(int index, const QString& path, QSize size = {900, 560}) const;

  [[nodiscard]] const AnalysedSession& current() const { return current_; }
  [[nodiscard]] const ReportOptions& options() const { return options_; }

 private:
  [[nodiscard]] QString html(qreal width) const;
  AnalysedSession current_;
  ReportOptions options_;
};

// The report on screen, with PDF and PNG export.
class ReportView : public QWidget {
  Q_OBJECT
 public:
  explicit ReportView(QWidget* parent = nullptr);
  void set_report(std::shared_ptr<const Report> report);
  void clear(const QString& hint);
  [[nodiscard]] const std::shared_ptr<const Report>& report() const { return report_; }
  [[nodiscard]] QTextBrowser* browser() const { return browser_; }

 Q_SIGNALS:
  void exported(const QString& path);

 public Q_SLOTS:
  void export_pdf();
  void export_chart();

 private:
  void relayout();
  std::shared_ptr<const Report> report_;
  QTextBrowser* browser_;
  QComboBox* chart_picker_;
  QWidget* actions_;
};

}  // namespace isokin::gui
