#include "isokin/gui/main_window.h"

#include <algorithm>
#include <cmath>

#include <QAction>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSettings>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "isokin/acquisition/protocol.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/registry.h"
#include "isokin/gui/session_chart.h"

namespace isokin::gui {
namespace {

QString utc_now() {
  return QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ssZ"));
}

QString clock_text(double seconds) {
  const auto s = static_cast<long>(std::max(0.0, std::round(seconds)));
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

std::optional<drivers::Side> side_choice(const QComboBox* box) {
  const QString value = box->currentData().toString();
  if (value == QLatin1String("left")) return drivers::Side::kLeft;
  if (value == QLatin1String("right")) return drivers::Side::kRight;
  if (value == QLatin1String("none")) return drivers::Side::kNone;
  return std::nullopt;
}

QTableWidgetItem* cell(const QString& text, bool number = false) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(item->flags() & ~Qt::ItemIsEditable);
  if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  return item;
}

QLabel* big_label(const QString& text) {
  auto* label = new QLabel(text);
  QFont font = label->font();
  font.setPointSizeF(font.pointSizeF() * 1.35);
  font.setBold(true);
  label->setFont(font);
  return label;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
SubjectPage::SubjectPage(const std::filesystem::path& protocols_dir, QWidget* parent)
    : QWidget(parent),
      subject_id(new QLineEdit),
      body_mass(new QDoubleSpinBox),
      sex(new QComboBox),
      age(new QSpinBox),
      sport(new QLineEdit),
      dominant_side(new QComboBox),
      injured_side(new QComboBox),
      earlier(new QListWidget),
      protocol(new QComboBox),
      protocol_summary(new QLabel),
      device(new QComboBox),
      device_port(new QLineEdit),
      device_profile(new QLineEdit),
      without_waiting(new QCheckBox(tr("Simulator: run without waiting (no rests, unpaced)"))),
      stream_port(new QSpinBox),
      folder_edit(new QLineEdit),
      start(new QPushButton(tr("&Start test"))),
      problem(new QLabel),
      protocols_dir_(protocols_dir) {
  // A pseudonymous code, never a name (docs/security.md).
  subject_id->setPlaceholderText(tr("pseudonymous code, e.g. S-0142"));
  subject_id->setValidator(new QRegularExpressionValidator(
      QRegularExpression(QStringLiteral("[A-Za-z0-9._-]{1,64}")), subject_id));
  body_mass->setRange(0.0, 300.0);
  body_mass->setDecimals(1);
  body_mass->setSuffix(tr(" kg"));
  body_mass->setSpecialValueText(tr("unknown"));
  sex->addItem(tr("—"), QString());
  sex->addItem(tr("female"), QStringLiteral("female"));
  sex->addItem(tr("male"), QStringLiteral("male"));
  sex->addItem(tr("other"), QStringLiteral("other"));
  age->setRange(0, 120);
  age->setSuffix(tr(" years"));
  age->setSpecialValueText(tr("—"));
  sport->setPlaceholderText(tr("e.g. football"));
  dominant_side->addItem(tr("—"), QString());
  dominant_side->addItem(tr("left"), QStringLiteral("left"));
  dominant_side->addItem(tr("right"), QStringLiteral("right"));
  injured_side->addItem(tr("—"), QString());
  injured_side->addItem(tr("none"), QStringLiteral("none"));
  injured_side->addItem(tr("left"), QStringLiteral("left"));
  injured_side->addItem(tr("right"), QStringLiteral("right"));

  for (const auto& dir : acquisition::protocol_directories(protocols_dir_)) {
    std::error_code error;
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      if (entry.path().extension() == ".json") found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());
    for (const auto& path : found) {
      if (protocol->findText(QString::fromStdString(path.stem().string())) >= 0) continue;
      protocol->addItem(QString::fromStdString(path.stem().string()),
                        QString::fromStdString(path.string()));
    }
  }
  const int bilateral = protocol->findText(QStringLiteral("knee-60-180-bilateral"));
  if (bilateral >= 0) protocol->setCurrentIndex(bilateral);
  protocol_summary->setWordWrap(true);
  protocol_summary->setTextFormat(Qt::PlainText);
  connect(protocol, &QComboBox::currentIndexChanged, this, [this] { describe_protocol(); });

  for (const auto& driver : drivers::available_drivers()) {
    device->addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(driver.name),
                                                  QString::fromStdString(driver.description)),
                    QString::fromStdString(driver.name));
  }
  device_port->setPlaceholderText(tr("serial: e.g. /dev/ttyACM0 (empty = the profile's)"));
  device_profile->setPlaceholderText(tr("serial / labjack-u6: profile name, e.g. biodex2-adc"));
  const auto device_changed = [this] {
    const QString name = device->currentData().toString();
    device_port->setEnabled(name == QLatin1String("serial"));
    device_profile->setEnabled(name == QLatin1String("serial") ||
                               name == QLatin1String("labjack-u6"));
    without_waiting->setEnabled(name == QLatin1String("sim"));
  };
  connect(device, &QComboBox::currentIndexChanged, this, device_changed);
  device_changed();
  // The folder used last, while it exists: a lab keeps its sessions in one place.
  const QString remembered = QSettings().value(QStringLiteral("sessions/folder")).toString();
  folder_edit->setText(!remembered.isEmpty() && QDir(remembered).exists() ? remembered
                                                                          : QDir::currentPath());
  connect(folder_edit, &QLineEdit::editingFinished, this, [this] {
    if (QDir(folder()).exists()) QSettings().setValue(QStringLiteral("sessions/folder"), folder());
  });
  auto* browse = new QPushButton(tr("&Browse…"));
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Folder for sessions"), folder());
    if (dir.isEmpty()) return;
    folder_edit->setText(dir);
    Q_EMIT folder_edit->editingFinished();
  });

  auto* who = new QGroupBox(tr("Subject"));
  auto* who_form = new QFormLayout(who);
  who_form->addRow(tr("Subject &ID:"), subject_id);
  who_form->addRow(tr("&Body mass:"), body_mass);
  who_form->addRow(tr("Se&x:"), sex);
  who_form->addRow(tr("&Age:"), age);
  who_form->addRow(tr("S&port:"), sport);
  who_form->addRow(tr("&Dominant side:"), dominant_side);
  who_form->addRow(tr("In&jured side:"), injured_side);
  earlier->setToolTip(tr("Double-click: the report of that session"));
  earlier->setMinimumHeight(90);
  who_form->addRow(tr("Earlier sessions:"), earlier);
  connect(subject_id, &QLineEdit::editingFinished, this, &SubjectPage::find_earlier_sessions);
  connect(folder_edit, &QLineEdit::editingFinished, this, &SubjectPage::find_earlier_sessions);
  connect(earlier, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) {
    Q_EMIT report_requested(item->data(Qt::UserRole).toString());
  });

  auto* how = new QGroupBox(tr("Test"));
  auto* how_form = new QFormLayout(how);
  how_form->addRow(tr("P&rotocol:"), protocol);
  how_form->addRow(QString(), protocol_summary);
  how_form->addRow(tr("D&evice:"), device);
  how_form->addRow(tr("Port:"), device_port);
  how_form->addRow(tr("Profile:"), device_profile);
  how_form->addRow(QString(), without_waiting);
  stream_port->setRange(0, 65535);
  stream_port->setSpecialValueText(tr("off"));
  stream_port->setToolTip(
      tr("Serve the live samples and results on this TCP port of 127.0.0.1 to other programs "
         "(docs/stream-protocol.md)"));
  how_form->addRow(tr("Live s&tream port:"), stream_port);
  auto* folder_row = new QHBoxLayout;
  folder_row->addWidget(folder_edit, 1);
  folder_row->addWidget(browse);
  how_form->addRow(tr("Save in:"), folder_row);

  auto* columns = new QHBoxLayout;
  columns->addWidget(who, 2);
  columns->addWidget(how, 3);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(columns);
  auto* start_row = new QHBoxLayout;
  problem->setStyleSheet(QStringLiteral("color: #a03000; font-weight: bold;"));
  problem->setWordWrap(true);
  start_row->addWidget(problem, 1);
  start->setDefault(true);
  start->setMinimumHeight(40);
  start->setMinimumWidth(200);
  start_row->addWidget(start);
  layout->addLayout(start_row);
  layout->addStretch(1);
  describe_protocol();
}

void SubjectPage::set_folder(const QString& folder) {
  folder_edit->setText(folder);
  find_earlier_sessions();
}

void SubjectPage::find_earlier_sessions() {
  earlier->clear();
  const std::string id = subject_id->text().toStdString();
  if (id.empty()) return;
  struct Found {
    acquisition::SubjectInfo subject;
    std::string created;
    QString label;
    QString path;
  };
  std::vector<Found> found;
  const QDir dir(folder());
  for (const QFileInfo& file :
       dir.entryInfoList({QStringLiteral("*.h5"), QStringLiteral("*.hdf5")}, QDir::Files)) {
    try {
      const auto session =
          acquisition::read_untrusted_session(file.absoluteFilePath().toStdString());
      if (session.info.subject.id != id) continue;
      found.push_back({session.info.subject, session.info.created_utc,
                       QStringLiteral("%1 · %2%3")
                           .arg(QString::fromStdString(session.info.created_utc.substr(0, 10)),
                                QString::fromStdString(session.info.protocol_name),
                                session.complete ? QString() : tr(" (incomplete)")),
                       file.absoluteFilePath()});
    } catch (const std::exception&) {
      continue;  // the Sessions tab lists unreadable files with the reason
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.created > b.created; });
  for (const Found& f : found) {
    auto* item = new QListWidgetItem(f.label, earlier);
    item->setData(Qt::UserRole, f.path);
  }
  if (found.empty()) return;
  // The newest session's descriptive data, where nothing was entered yet.
  const auto& last = found.front().subject;
  if (body_mass->value() <= 0.0) body_mass->setValue(last.body_mass_kg);
  const auto fill = [](QComboBox* box, const QString& value) {
    if (box->currentIndex() <= 0 && box->findData(value) >= 0) {
      box->setCurrentIndex(box->findData(value));
    }
  };
  fill(sex, QString::fromStdString(last.sex));
  const auto side_data = [](const std::optional<drivers::Side>& side) {
    if (!side) return QString();
    return QString::fromUtf8(drivers::to_string(*side).data());
  };
  fill(dominant_side, side_data(last.dominant_side));
  fill(injured_side, side_data(last.injured_side));
  if (sport->text().isEmpty()) sport->setText(QString::fromStdString(last.sport));
}
QString SubjectPage::folder() const {
  return folder_edit->text();
}

void SubjectPage::describe_protocol() {
  const QString path = protocol->currentData().toString();
  if (path.isEmpty()) {
    protocol_summary->setText(
        tr("No protocol found in %1").arg(QString::fromStdString(protocols_dir_.string())));
    return;
  }
  try {
    const auto p = acquisition::load_protocol(path.toStdString());
    const auto plan = acquisition::plan_protocol(p);
    QStringList sets;
    for (const auto& set : plan) sets << describe_set(set.info);
    protocol_summary->setText(QStringLiteral("%1\n%2 sets: %3")
                                  .arg(QString::fromStdString(p.description))
                                  .arg(plan.size())
                                  .arg(sets.join(QStringLiteral(", "))));
  } catch (const std::exception& e) {
    protocol_summary->setText(QString::fromStdString(e.what()));
  }
}

std::optional<TestPlan> SubjectPage::test_plan(QString* error) const {
  const auto fail = [error](const QString& why) -> std::optional<TestPlan> {
    if (error != nullptr) *error = why;
    return std::nullopt;
  };
  if (!subject_id->hasAcceptableInput()) {
    return fail(tr("Enter a subject ID (letters, digits, '.', '_' or '-'; never a name)."));
  }
  const QDir dir(folder());
  if (folder().isEmpty() || !dir.exists()) {
    return fail(tr("The folder '%1' does not exist.").arg(folder()));
  }
  TestPlan plan;
  try {
    const auto p = acquisition::load_protocol(protocol->currentData().toString().toStdString());
    plan.plan = acquisition::plan_protocol(p);
    plan.info.protocol_name = p.name;
    plan.info.protocol_json = p.json_text;
    if (std::find(p.subject_data.begin(), p.subject_data.end(), "body_mass") !=
            p.subject_data.end() &&
        body_mass->value() <= 0.0) {
      return fail(tr("The protocol '%1' needs the body mass.").arg(QString::fromStdString(p.name)));
    }
  } catch (const std::exception& e) {
    return fail(QString::fromStdString(e.what()));
  }
  auto& subject = plan.info.subject;
  subject.id = subject_id->text().toStdString();
  subject.body_mass_kg = body_mass->value();
  subject.sex = sex->currentData().toString().toStdString();
  subject.age_years = age->value();
  subject.sport = sport->text().trimmed().toStdString();
  subject.dominant_side = side_choice(dominant_side);
  subject.injured_side = side_choice(injured_side);
  plan.info.created_utc = utc_now().toStdString();
  plan.info.software = "isokin-gui 0.1.0";
  plan.device = device->currentData().toString().toStdString();
  plan.device_options.port = device_port->text().trimmed().toStdString();
  plan.device_options.profile = device_profile->text().trimmed().toStdString();
  const bool fast = plan.device == "sim" && without_waiting->isChecked();
  plan.device_options.realtime = plan.device == "sim" && !fast;
  plan.time_scale = fast ? 0.0 : 1.0;
  plan.stream_port = stream_port->value();
  const QString stamp = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"));
  plan.out = dir.filePath(QStringLiteral("%1_%2.h5").arg(subject_id->text(), stamp)).toStdString();
  for (int n = 2; std::filesystem::exists(plan.out); ++n) {
    plan.out = dir.filePath(QStringLiteral("%1_%2-%3.h5").arg(subject_id->text(), stamp).arg(n))
                   .toStdString();
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
LivePage::LivePage(QWidget* parent)
    : QWidget(parent),
      curves(new LiveCurves),
      set_label(big_label(tr("No test running"))),
      state_label(big_label(QString())),
      repetition_label(big_label(QString())),
      peak_label(big_label(QString())),
      phases(new QTableWidget(0, 7)),
      log(new QPlainTextEdit),
      start_now(new QPushButton(tr("Start &now"))),
      pause(new QPushButton(tr("&Pause"))),
      redo(new QPushButton(tr("&Redo set"))),
      end_set(new QPushButton(tr("&End set"))),
      mark(new QPushButton(tr("&Mark…"))),
      abort(new QPushButton(tr("&Abort"))) {
  auto* status = new QHBoxLayout;
  status->addWidget(set_label, 3);
  status->addWidget(state_label, 2);
  status->addWidget(repetition_label, 2);
  status->addWidget(peak_label, 2);

  phases->setHorizontalHeaderLabels({tr("Set"), tr("Rep"), tr("Movement"), tr("Muscles"),
                                     tr("Peak (N·m)"), tr("Angle (°)"), tr("Work (J)")});
  phases->verticalHeader()->hide();
  phases->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  phases->horizontalHeader()->setStretchLastSection(true);
  phases->setSelectionBehavior(QAbstractItemView::SelectRows);
  log->setReadOnly(true);
  log->setMaximumBlockCount(2000);

  start_now->setToolTip(tr("End the rest or positioning countdown (Ctrl+N)"));
  pause->setToolTip(tr("Pause; a running set is redone after continuing (Space)"));
  redo->setToolTip(tr("Record the running or the last set again (Ctrl+R)"));
  end_set->setToolTip(tr("End the running set now (Ctrl+E): for devices that only measure"));
  mark->setToolTip(tr("Write a note into the session at this moment (Ctrl+M)"));
  abort->setToolTip(tr("Stop the test; what is recorded stays in the file (Ctrl+Q)"));
  start_now->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_N));
  pause->setShortcut(QKeySequence(Qt::Key_Space));
  redo->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  end_set->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  mark->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
  abort->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  auto* buttons = new QHBoxLayout;
  for (QPushButton* b : {start_now, pause, redo, end_set, mark}) buttons->addWidget(b);
  buttons->addStretch(1);
  buttons->addWidget(abort);

  auto* lower = new QSplitter(Qt::Horizontal);
  lower->addWidget(phases);
  lower->addWidget(log);
  lower->setStretchFactor(0, 3);
  lower->setStretchFactor(1, 2);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(curves);
  split->addWidget(lower);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(status);
  layout->addWidget(split, 1);
  layout->addLayout(buttons);
  for (QPushButton* b : {start_now, pause, redo, end_set, mark, abort}) b->setEnabled(false);
}

void LivePage::attach(TestSession* session) {
  session_ = session;
  connect(session, &TestSession::progress, this, &LivePage::on_progress);
  connect(session, &TestSession::phase_analysed, this, &LivePage::on_phase);
  connect(session, &TestSession::message, this,
          [this](const QString& text) { log->appendPlainText(text); });
  connect(session, &TestSession::set_ended, this,
          [this](const QString& text) { log->appendPlainText(tr("set ended — %1").arg(text)); });
  connect(start_now, &QPushButton::clicked, session, &TestSession::start_now);
  connect(redo, &QPushButton::clicked, session, &TestSession::redo_set);
  connect(end_set, &QPushButton::clicked, session, &TestSession::end_set);
  connect(pause, &QPushButton::clicked, this, [this] {
    if (paused_) {
      session_->resume();
    } else {
      session_->pause();
    }
  });
  connect(mark, &QPushButton::clicked, this, [this] {
    bool ok = false;
    const QString note = QInputDialog::getText(this, tr("Mark"), tr("Note for this moment:"),
                                               QLineEdit::Normal, QString(), &ok);
    if (ok) {
      session_->mark(note);
      log->appendPlainText(tr("mark: %1").arg(note));
    }
  });
  connect(abort, &QPushButton::clicked, this, [this] {
    if (QMessageBox::question(this, tr("Abort the test?"),
                              tr("Stop the test now? What is recorded stays in the file.")) ==
        QMessageBox::Yes) {
      session_->abort();
    }
  });
  connect(session, &TestSession::finished, this,
          [this](bool complete, const QString& path, const QString& error) {
            curves->redraw();
            curves->follow(nullptr);
            for (QPushButton* b : {start_now, pause, redo, end_set, mark, abort})
              b->setEnabled(false);
            state_label->setText(complete ? tr("Done") : tr("Stopped"));
            log->appendPlainText(
                error.isEmpty()
                    ? tr("%1: %2").arg(complete ? tr("test complete") : tr("test stopped"), path)
                    : tr("ERROR: %1").arg(error));
          });
}

void LivePage::on_progress(const QString& state, int index, int size, const QString& label,
                           int repetitions, double seconds_left) {
  planned_repetitions_ = repetitions;
  if (index == 0 && state == QLatin1String("positioning") && phases->rowCount() > 0) {
    phases->setRowCount(0);
  }
  for (QPushButton* b : {start_now, pause, redo, end_set, mark, abort}) b->setEnabled(true);
  curves->follow(&session_->feed());
  paused_ = state == QLatin1String("paused");
  pause->setText(paused_ ? tr("&Continue") : tr("&Pause"));
  pause->setShortcut(QKeySequence(Qt::Key_Space));
  set_label->setText(label.isEmpty() ? tr("—")
                                     : tr("Set %1/%2 · %3").arg(index + 1).arg(size).arg(label));
  QString shown = state == QLatin1String("set") ? tr("recording") : state;
  if (state == QLatin1String("rest") || state == QLatin1String("positioning")) {
    shown = tr("%1 %2").arg(state, clock_text(seconds_left));
  }
  state_label->setText(shown.isEmpty() ? QString() : shown.at(0).toUpper() + shown.mid(1));
  if (state == QLatin1String("set") || state == QLatin1String("gravity trial")) {
    repetition_label->setText(tr("Repetition —/%1").arg(planned_repetitions_));
    peak_label->setText(tr("Last peak —"));
  }
}

void LivePage::on_phase(const LivePhase& p) {
  const int row = phases->rowCount();
  phases->insertRow(row);
  phases->setItem(row, 0, cell(p.set_label));
  phases->setItem(row, 1, cell(QString::number(p.repetition), true));
  phases->setItem(row, 2, cell(p.movement));
  phases->setItem(row, 3, cell(p.muscle));
  phases->setItem(row, 4, cell(QString::number(p.peak_torque, 'f', 1), true));
  phases->setItem(row, 5, cell(QString::number(p.angle_at_peak, 'f', 0), true));
  phases->setItem(
      row, 6,
      cell(QString::number(p.work, 'f', 1) + (p.counted ? QString() : tr(" (cut off)")), true));
  phases->scrollToBottom();
  repetition_label->setText(tr("Repetition %1/%2").arg(p.repetition).arg(planned_repetitions_));
  peak_label->setText(tr("Last peak: %1 %2 N·m").arg(p.muscle).arg(p.peak_torque, 0, 'f', 1));
}

// ---------------------------------------------------------------------------------------------
SessionsPage::SessionsPage(QWidget* parent)
    : QWidget(parent),
      folder_edit(new QLineEdit),
      files(new QTableWidget(0, 5)),
      preview(new SessionChartView),
      segmentation(new QComboBox),
      cutoff(new QDoubleSpinBox),
      gravity(new QComboBox),
      report(new QPushButton(tr("Show &report"))) {
  auto* browse = new QPushButton(tr("&Browse…"));
  auto* refresh_button = new QPushButton(tr("Re&fresh"));
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Folder of sessions"), folder_edit->text());
    if (!dir.isEmpty()) set_folder(dir);
  });
  connect(refresh_button, &QPushButton::clicked, this, &SessionsPage::refresh);
  connect(folder_edit, &QLineEdit::returnPressed, this, &SessionsPage::refresh);
  files->setHorizontalHeaderLabels(
      {tr("File"), tr("Subject"), tr("Date (UTC)"), tr("Protocol"), tr("Recording")});
  files->verticalHeader()->hide();
  files->setSelectionBehavior(QAbstractItemView::SelectRows);
  files->setSelectionMode(QAbstractItemView::SingleSelection);
  files->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  files->horizontalHeader()->setStretchLastSection(true);
  connect(files, &QTableWidget::itemSelectionChanged, this, &SessionsPage::preview_selected);
  connect(files, &QTableWidget::cellDoubleClicked, this, [this] {
    if (!selected_path().isEmpty()) Q_EMIT report_requested(selected_path());
  });
  preview->clear(tr("Select a session to see its curves"));

  segmentation->addItem(tr("automatic"), QStringLiteral("auto"));
  segmentation->addItem(tr("from velocity"), QStringLiteral("velocity"));
  segmentation->addItem(tr("device's own marks"), QStringLiteral("device"));
  const analysis::AnalysisSettings defaults;
  cutoff->setRange(1.0, 200.0);
  cutoff->setDecimals(1);
  cutoff->setSuffix(tr(" Hz"));
  cutoff->setValue(defaults.filter_cutoff_hz);
  gravity->addItem(tr("from passive trial or rest"), QStringLiteral("rest"));
  gravity->addItem(tr("off"), QStringLiteral("off"));
  connect(report, &QPushButton::clicked, this, [this] {
    if (!selected_path().isEmpty()) Q_EMIT report_requested(selected_path());
  });

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Folder:")));
  top->addWidget(folder_edit, 1);
  top->addWidget(browse);
  top->addWidget(refresh_button);
  auto* settings_row = new QHBoxLayout;
  settings_row->addWidget(new QLabel(tr("Repetitions:")));
  settings_row->addWidget(segmentation);
  settings_row->addWidget(new QLabel(tr("Low-pass:")));
  settings_row->addWidget(cutoff);
  settings_row->addWidget(new QLabel(tr("Gravity correction:")));
  settings_row->addWidget(gravity);
  settings_row->addStretch(1);
  settings_row->addWidget(report);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(files);
  split->addWidget(preview);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(split, 1);
  layout->addLayout(settings_row);
}

void SessionsPage::set_folder(const QString& folder) {
  folder_edit->setText(folder);
  refresh();
}

void SessionsPage::refresh() {
  files->setRowCount(0);
  const QDir dir(folder_edit->text());
  const QFileInfoList entries = dir.entryInfoList(
      {QStringLiteral("*.h5"), QStringLiteral("*.hdf5")}, QDir::Files, QDir::Name);
  for (const QFileInfo& entry : entries) {
    const int row = files->rowCount();
    files->insertRow(row);
    auto* name = cell(entry.fileName());
    name->setData(Qt::UserRole, entry.absoluteFilePath());
    files->setItem(row, 0, name);
    try {
      const auto session =
          acquisition::read_untrusted_session(entry.absoluteFilePath().toStdString());
      files->setItem(row, 1, cell(QString::fromStdString(session.info.subject.id)));
      files->setItem(row, 2, cell(QString::fromStdString(session.info.created_utc)));
      files->setItem(row, 3, cell(QString::fromStdString(session.info.protocol_name)));
      files->setItem(row, 4,
                     cell(session.complete ? tr("complete")
                                           : tr("incomplete (%1 sets)").arg(session.sets.size())));
    } catch (const std::exception& e) {  // SessionFileError, or the reading process failed
      files->setItem(row, 4, cell(tr("unreadable: %1").arg(QString::fromStdString(e.what()))));
    }
  }
}

void SessionsPage::show_file(const QString& path, int set) {
  auto session = std::make_shared<const acquisition::Session>(
      acquisition::read_untrusted_session(path.toStdString()));
  if (set != SessionChartView::kAllSets &&
      (set < 0 || set >= static_cast<int>(session->sets.size()))) {
    throw std::out_of_range("no such set");
  }
  const QFileInfo info(path);
  folder_edit->setText(info.absolutePath());
  refresh();
  const QSignalBlocker block(files);  // the preview below shows the chosen set
  for (int row = 0; row < files->rowCount(); ++row) {
    if (files->item(row, 0)->data(Qt::UserRole).toString() == info.absoluteFilePath()) {
      files->selectRow(row);
    }
  }
  preview->set_session(std::move(session), set);
}

QString SessionsPage::selected_path() const {
  const auto rows = files->selectionModel()->selectedRows();
  if (rows.isEmpty()) return {};
  return files->item(rows.front().row(), 0)->data(Qt::UserRole).toString();
}

void SessionsPage::preview_selected() {
  const QString path = selected_path();
  if (path.isEmpty()) return;
  try {
    preview->set_session(std::make_shared<const acquisition::Session>(
        acquisition::read_untrusted_session(path.toStdString())));
  } catch (const std::exception& e) {
    preview->clear(QString::fromStdString(e.what()));
  }
}

analysis::AnalysisSettings SessionsPage::settings() const {
  analysis::AnalysisSettings s;
  const QString source = segmentation->currentData().toString();
  s.segmentation.source =
      source == QLatin1String("velocity") ? analysis::SegmentationSource::kVelocity
      : source == QLatin1String("device") ? analysis::SegmentationSource::kDevice
                                          : analysis::SegmentationSource::kAuto;
  s.filter_cutoff_hz = cutoff->value();
  if (gravity->currentData().toString() == QLatin1String("off")) {
    s.gravity.mode = analysis::GravityMode::kOff;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
MainWindow::MainWindow(const std::filesystem::path& protocols_dir, QWidget* parent)
    : QMainWindow(parent),
      tabs_(new QTabWidget),
      subject_(new SubjectPage(protocols_dir)),
      live_(new LivePage),
      report_(new ReportView),
      sessions_(new SessionsPage),
      lab_name_(new QLineEdit(QStringLiteral("isokin laboratory"))),
      page_size_(new QComboBox),
      session_(new TestSession(this)) {
  auto* report_page = new QWidget;
  auto* report_layout = new QVBoxLayout(report_page);
  auto* report_settings = new QHBoxLayout;
  report_settings->addWidget(new QLabel(tr("Laboratory:")));
  report_settings->addWidget(lab_name_, 1);
  report_settings->addWidget(new QLabel(tr("Paper:")));
  page_size_->addItem(QStringLiteral("A4"), static_cast<int>(QPageSize::A4));
  page_size_->addItem(QStringLiteral("Letter"), static_cast<int>(QPageSize::Letter));
  report_settings->addWidget(page_size_);
  report_layout->addLayout(report_settings);
  report_layout->addWidget(report_, 1);
  const ReportOptions remembered = remembered_report_options();
  lab_name_->setText(remembered.lab_name);
  page_size_->setCurrentIndex(page_size_->findData(static_cast<int>(remembered.page)));
  const auto remember = [this] {
    remember_report_options(lab_name_->text(),
                            static_cast<QPageSize::PageSizeId>(page_size_->currentData().toInt()));
  };
  connect(lab_name_, &QLineEdit::editingFinished, this, remember);
  connect(page_size_, &QComboBox::currentIndexChanged, this, remember);
  connect(lab_name_, &QLineEdit::editingFinished, this, &MainWindow::regenerate_report);
  connect(page_size_, &QComboBox::currentIndexChanged, this, &MainWindow::regenerate_report);

  tabs_->addTab(subject_, tr("&1 Subject and test"));
  tabs_->addTab(live_, tr("&2 Live test"));
  tabs_->addTab(report_page, tr("&3 Report"));
  tabs_->addTab(sessions_, tr("&4 Sessions"));
  setCentralWidget(tabs_);
  for (int i = 0; i < 4; ++i) {
    auto* shortcut =
        new QShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)), this);
    connect(shortcut, &QShortcut::activated, this, [this, i] { tabs_->setCurrentIndex(i); });
  }

  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open session…"), QKeySequence::Open, this, &MainWindow::open_file);
  file->addAction(tr("&Export report as PDF…"), QKeySequence(Qt::CTRL | Qt::Key_P), report_,
                  &ReportView::export_pdf);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  live_->attach(session_);
  connect(subject_->start, &QPushButton::clicked, this, &MainWindow::start_test);
  connect(session_, &TestSession::finished, this, &MainWindow::on_finished);
  connect(subject_, &SubjectPage::report_requested, this,
          [this](const QString& path) { show_report(path); });
  connect(sessions_, &SessionsPage::report_requested, this,
          [this](const QString& path) { show_report(path, sessions_->settings()); });
  connect(subject_->folder_edit, &QLineEdit::editingFinished, this,
          [this] { sessions_->set_folder(subject_->folder()); });
  connect(report_, &ReportView::exported, this, [this](const QString& path) {
    statusBar()->showMessage(tr("Saved %1").arg(path), 8000);
  });
  sessions_->set_folder(subject_->folder());
  setWindowTitle(QStringLiteral("isokin"));
  statusBar()->showMessage(
      tr("Fill in the subject, choose the protocol and device, then Start test."));
}

MainWindow::~MainWindow() = default;

void MainWindow::set_lab_name(const QString& name) {
  lab_name_->setText(name);
  regenerate_report();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (session_->running() &&
      QMessageBox::question(this, tr("A test is running"),
                            tr("Quit and stop the test? What is recorded stays in the file.")) !=
          QMessageBox::Yes) {
    event->ignore();
    return;
  }
  session_->abort();
  event->accept();
}

void MainWindow::start_test() {
  QString error;
  auto plan = subject_->test_plan(&error);
  if (!plan) {
    subject_->problem->setText(error);
    return;
  }
  subject_->problem->clear();
  live_->phases->setRowCount(0);
  live_->log->clear();
  live_->log->appendPlainText(
      tr("Recording to %1").arg(QString::fromStdString(plan->out.string())));
  if (!session_->start(std::move(*plan), &error)) {
    subject_->problem->setText(error);
    return;
  }
  subject_->start->setEnabled(false);
  tabs_->setCurrentWidget(live_);
  statusBar()->showMessage(tr("Test running"));
}

void MainWindow::on_finished(bool complete, const QString& path, const QString& error) {
  subject_->start->setEnabled(true);
  sessions_->set_folder(QFileInfo(path).absolutePath());  // where the new session is
  subject_->find_earlier_sessions();
  if (!error.isEmpty()) {
    statusBar()->showMessage(tr("Test failed: %1").arg(error));
    // Not a modal box: the operator sees it on the live page, where the test was.
    live_->state_label->setText(tr("Failed"));
    if (QFileInfo::exists(path)) {
      live_->log->appendPlainText(
          tr("What was recorded is in %1; `isokin repair` recovers it.").arg(path));
    }
  } else {
    statusBar()->showMessage(complete ? tr("Test complete: %1").arg(path)
                                      : tr("Test stopped: %1").arg(path));
    if (QFileInfo::exists(path)) show_report(path);
  }
  Q_EMIT test_finished(complete && error.isEmpty(), path);
}

bool MainWindow::show_report(const QString& path, const analysis::AnalysisSettings& settings) {
  try {
    AnalysedSession current;
    current.session = std::make_shared<const acquisition::Session>(
        acquisition::read_untrusted_session(path.toStdString()));
    current.analysis = analysis::analyze_session(*current.session, settings);
    ReportOptions options;
    options.lab_name = lab_name_->text();
    options.page = static_cast<QPageSize::PageSizeId>(page_size_->currentData().toInt());
    // Earlier sessions of the same subject in the same folder: progress over rehabilitation.
    const QFileInfo info(path);
    for (const QFileInfo& other : info.dir().entryInfoList({QStringLiteral("*.h5")}, QDir::Files)) {
      if (other.absoluteFilePath() == info.absoluteFilePath()) continue;
      try {
        auto earlier = std::make_shared<const acquisition::Session>(
            acquisition::read_untrusted_session(other.absoluteFilePath().toStdString()));
        if (earlier->info.subject.id != current.session->info.subject.id ||
            earlier->info.created_utc >= current.session->info.created_utc) {
          continue;
        }
        options.earlier.push_back({earlier, analysis::analyze_session(*earlier, settings)});
      } catch (const std::exception& e) {
        statusBar()->showMessage(tr("Skipped %1: %2").arg(other.fileName(), e.what()), 8000);
      }
    }
    std::sort(options.earlier.begin(), options.earlier.end(), [](const auto& a, const auto& b) {
      return a.session->info.created_utc < b.session->info.created_utc;
    });
    report_->set_report(std::make_shared<const Report>(std::move(current), std::move(options)));
    report_path_ = path;
    report_settings_ = settings;
    tabs_->setCurrentIndex(2);
    return true;
  } catch (const std::exception& e) {
    report_->clear(tr("Cannot show the report: %1").arg(QString::fromStdString(e.what())));
    tabs_->setCurrentIndex(2);
    statusBar()->showMessage(tr("Cannot show the report: %1").arg(e.what()));
    return false;
  }
}

void MainWindow::regenerate_report() {
  if (!report_path_.isEmpty()) show_report(report_path_, report_settings_);
}

void MainWindow::open_file() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Open session"), sessions_->folder_edit->text(),
                                   tr("isokin sessions (*.h5 *.hdf5);;All files (*)"));
  if (!path.isEmpty()) show_report(path, sessions_->settings());
}

}  // namespace isokin::gui
