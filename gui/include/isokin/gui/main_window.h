#pragma once
// The desktop application: subject and protocol, the live test, the report, and a browser of
// recorded sessions, one tab each (Ctrl+1…4).

#include <filesystem>
#include <memory>
#include <optional>

#include <QMainWindow>

#include "isokin/analysis/analysis_settings.h"
#include "isokin/gui/report.h"
#include "isokin/gui/test_session.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableWidget;

namespace isokin::gui {

class SessionChartView;

// Who is tested, with which protocol on which device.
class SubjectPage : public QWidget {
  Q_OBJECT
 public:
  explicit SubjectPage(const std::filesystem::path& protocols_dir, QWidget* parent = nullptr);

  // The test as filled in; nullopt (and `error`) when something required is missing.
  [[nodiscard]] std::optional<TestPlan> test_plan(QString* error) const;
  void set_folder(const QString& folder);
  [[nodiscard]] QString folder() const;
  // Lists the sessions of the subject ID typed, found in the folder; a subject typed again is
  // filled in from the newest (body mass, sex, sport…, which the operator can change).
  void find_earlier_sessions();

 Q_SIGNALS:
  void report_requested(const QString& path);

 public:
  // Widgets, for keyboard focus order and tests.
  QLineEdit* subject_id;
  QDoubleSpinBox* body_mass;
  QComboBox* sex;
  QSpinBox* age;
  QLineEdit* sport;
  QComboBox* dominant_side;
  QComboBox* injured_side;
  QListWidget* earlier;  // this subject's sessions in the folder, newest first
  QComboBox* protocol;
  QLabel* protocol_summary;
  QComboBox* device;
  QLineEdit* device_port;
  QLineEdit* device_profile;
  QCheckBox* without_waiting;
  QSpinBox* stream_port;  // 0 = no live stream
  QLineEdit* folder_edit;
  QPushButton* start;
  QLabel* problem;  // why the test cannot start, next to the button

 private:
  void describe_protocol();
  std::filesystem::path protocols_dir_;
};

// The test as it runs.
class LivePage : public QWidget {
  Q_OBJECT
 public:
  explicit LivePage(QWidget* parent = nullptr);
  void attach(TestSession* session);

  LiveCurves* curves;
  QLabel* set_label;
  QLabel* state_label;
  QLabel* repetition_label;
  QLabel* peak_label;
  QTableWidget* phases;
  QPlainTextEdit* log;
  QPushButton* start_now;
  QPushButton* pause;
  QPushButton* redo;
  QPushButton* end_set;
  QPushButton* mark;
  QPushButton* abort;

 private:
  void on_progress(const QString& state, int index, int size, const QString& label, int repetitions,
                   double seconds_left);
  void on_phase(const LivePhase& phase);
  TestSession* session_ = nullptr;
  bool paused_ = false;
  int planned_repetitions_ = 0;
};

// Recorded sessions in a folder: preview, and the report with chosen analysis settings.
class SessionsPage : public QWidget {
  Q_OBJECT
 public:
  explicit SessionsPage(QWidget* parent = nullptr);
  void set_folder(const QString& folder);
  void refresh();
  // Lists the file's folder, selects the file and previews `set` (SessionChartView::kAllSets or
  // an index). Throws SessionFileError when the file cannot be read, std::out_of_range for a
  // set it does not have.
  void show_file(const QString& path, int set);
  [[nodiscard]] analysis::AnalysisSettings settings() const;

  QLineEdit* folder_edit;
  QTableWidget* files;
  SessionChartView* preview;
  QComboBox* segmentation;
  QDoubleSpinBox* cutoff;
  QComboBox* gravity;
  QPushButton* report;

 Q_SIGNALS:
  void report_requested(const QString& path);

 private:
  void preview_selected();
  [[nodiscard]] QString selected_path() const;
};

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const std::filesystem::path& protocols_dir, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Reads, analyses and shows a session's report (earlier sessions of the subject in the same
  // folder give the progress table). Returns false and shows why when it cannot.
  bool show_report(const QString& path, const analysis::AnalysisSettings& settings = {});
  void set_lab_name(const QString& name);

  [[nodiscard]] QTabWidget* tabs() const { return tabs_; }
  [[nodiscard]] SubjectPage* subject_page() const { return subject_; }
  [[nodiscard]] LivePage* live_page() const { return live_; }
  [[nodiscard]] ReportView* report_view() const { return report_; }
  [[nodiscard]] SessionsPage* sessions_page() const { return sessions_; }
  [[nodiscard]] TestSession* test_session() const { return session_; }
  [[nodiscard]] QLineEdit* lab_name_edit() const { return lab_name_; }

 Q_SIGNALS:
  void test_finished(bool complete, const QString& path);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void start_test();
  void on_finished(bool complete, const QString& path, const QString& error);
  void regenerate_report();
  void open_file();

  QTabWidget* tabs_;
  SubjectPage* subject_;
  LivePage* live_;
  ReportView* report_;
  SessionsPage* sessions_;
  QLineEdit* lab_name_;
  QComboBox* page_size_;
  TestSession* session_;
  QString report_path_;
  analysis::AnalysisSettings report_settings_;
};

}  // namespace isokin::gui
