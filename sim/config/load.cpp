#include "sim/config/load.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "models/market/correlation.hpp"
#include "sim/config/yaml_reader.hpp"
#include "sim/config/yaml_writer.hpp"

namespace ccpnet::config {

namespace {

[[noreturn]] void fail_single(const std::string& file, Location where, std::string path, std::string message) {
  Diagnostics d(file);
  d.error(where, std::move(path), std::move(message));
  throw ScenarioError(std::move(d));
}

// YAML text is UTF-8 without control characters other than tab, line feed and
// carriage return (YAML 1.2 section 5.1). Binary data stops here, with one
// located error, before the parser sees it. Columns count bytes, as yaml-cpp's
// marks do.
void check_text(std::string_view text, const std::string& file) {
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    std::string_view problem;
    if (c < 0x80) {
      if (c == 0) {
        problem = "a NUL byte (binary data?)";
      } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        problem = "a control character";
      }
    } else {
      std::uint32_t cp = 0;
      if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1Fu;
      } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0Fu;
      } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07u;
      } else {
        problem = "not valid UTF-8";
      }
      if (problem.empty() && i + len > text.size()) problem = "not valid UTF-8 (a character cut short)";
      for (std::size_t k = 1; problem.empty() && k < len; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0u) != 0x80u) problem = "not valid UTF-8";
        cp = (cp << 6) | (next & 0x3Fu);
      }
      if (problem.empty() && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                              (cp >= 0xD800 && cp <= 0xDFFF))) {
        problem = "not valid UTF-8";
      }
      if (problem.empty() && ((cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF)) {
        problem = "a control character";
      }
    }
    if (!problem.empty()) {
      fail_single(file, Location{line, column, {}}, "",
                  fmt::format("not a YAML text file: byte 0x{:02x} is {}", c, problem));
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      column += static_cast<int>(len);
    }
    i += len;
  }
}

// First pass over the events of a text, before any node is built: bounds the
// node tree (yaml-cpp keeps about half a kilobyte per node) and the values a
// reader would visit with every alias expanded (a billion-laughs file is a few
// hundred bytes), and stops at a second document. Linear in the text.
class NodeCounter : public YAML::EventHandler {
 public:
  struct TooLarge {
    YAML::Mark mark;
    std::string message;
  };

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) throw TooLarge{mark, "expected one YAML document, found several ('---' separators)"};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    // An alias to a node still open (a cycle) counts as one: the reader follows
    // the schema, which has a fixed depth.
    const auto it = anchored_.find(anchor);
    add(mark, it == anchored_.end() ? 1 : it->second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(mark, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::size_t start;  // expanded_ before the collection
  };

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1);
    if (anchor != YAML::NullAnchor) anchored_[anchor] = 1;
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    open_.push_back({anchor, expanded_});
    add(mark, 1);
  }
  void close() {
    const Open o = open_.back();
    open_.pop_back();
    if (o.anchor != YAML::NullAnchor) anchored_[o.anchor] = expanded_ - o.start;
  }
  void add(const YAML::Mark& mark, std::size_t expanded) {
    if (++nodes_ > kMaxYamlNodes) {
      throw TooLarge{mark, fmt::format("document too large: more than {} YAML nodes (keys, values, lists, "
                                       "mappings); reading stopped here",
                                       kMaxYamlNodes)};
    }
    // Both terms are at most kMaxYamlNodes: no overflow.
    expanded_ += expanded;
    if (expanded_ > kMaxYamlNodes) {
      throw TooLarge{mark, fmt::format("document too large: more than {} values once aliases are expanded "
                                       "(an alias bomb?); reading stopped here",
                                       kMaxYamlNodes)};
    }
  }

  std::size_t nodes_ = 0;
  std::size_t expanded_ = 0;
  int documents_ = 0;
  std::vector<Open> open_;
  std::unordered_map<YAML::anchor_t, std::size_t> anchored_;  // expanded size of each anchored node
};

Location location_of_mark(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return Location{1, 1, {}};
  return Location{mark.line + 1, mark.column + 1, {}};
}

// Why a text is not one bounded YAML document.
struct ParseFailure {
  YAML::Mark mark;
  std::string message;
};

// One YAML document within the bounds above (a null node for an empty text).
YAML::Node parse_document(const std::string& text) {
  try {
    {
      std::istringstream in(text);
      YAML::Parser parser(in);
      NodeCounter counter;
      while (parser.HandleNextDocument(counter)) {
      }
    }
    return YAML::Load(text);
  } catch (const NodeCounter::TooLarge& e) {
    throw ParseFailure{e.mark, e.message};
  } catch (const YAML::DeepRecursion& e) {
    throw ParseFailure{e.mark,
                       fmt::format("lists and mappings nested too deeply: the limit is {} levels", e.depth() - 1)};
  } catch (const YAML::Exception& e) {
    throw ParseFailure{e.mark, "invalid YAML: " + e.msg};
  }
}

// The first tab in the indentation of line `line` (0-based) or of the line
// before it: yaml-cpp's messages for a tab in the indentation ("end of map not
// found", ...) often do not say so.
std::optional<Location> tab_in_indentation(std::string_view text, int line) {
  std::size_t begin = 0;
  for (int l = 0; l <= line && begin <= text.size(); ++l) {
    const std::size_t end = std::min(text.find('\n', begin), text.size());
    if (l >= line - 1) {
      for (std::size_t i = begin; i < end && (text[i] == ' ' || text[i] == '\t'); ++i) {
        if (text[i] == '\t') return Location{l + 1, static_cast<int>(i - begin) + 1, {}};
      }
    }
    begin = end + 1;
  }
  return std::nullopt;
}

YAML::Node parse_yaml(std::string_view text, const std::string& file) {
  check_text(text, file);
  YAML::Node root;
  try {
    root = parse_document(std::string(text));
  } catch (const ParseFailure& e) {
    if (e.message.rfind("invalid YAML", 0) == 0 && !e.mark.is_null()) {
      if (const auto tab = tab_in_indentation(text, e.mark.line)) {
        fail_single(file, *tab, "", "invalid YAML: a tab in the indentation (YAML indents with spaces only)");
      }
    }
    fail_single(file, location_of_mark(e.mark), "", e.message);
  }
  if (!root || root.IsNull()) {
    fail_single(file, Location{1, 1, {}}, "",
                "the file is empty: expected a mapping with at least the keys name, market and ccps");
  }
  return root;
}

// ---- --set overrides --------------------------------------------------------

struct Segment {
  std::string key;
  std::optional<std::size_t> index;
};

// "a.b[2].c": keys separated by '.', indices in brackets after a key or an
// index. An empty key (`a..b`, `.a`, `a.`, `a.[0]`), anything but '.' or '['
// after ']', and control characters are errors, not skipped.
std::vector<Segment> split_path(const std::string& path) {
  std::vector<Segment> out;
  std::string current;
  bool after_index = false;  // the previous character closed an index
  for (std::size_t i = 0; i <= path.size(); ++i) {
    const char c = i < path.size() ? path[i] : '.';
    if (after_index && c != '.' && c != '[')
      throw std::invalid_argument(fmt::format("expected '.' or '[' after ']' at character {}", i + 1));
    if (c == '.') {
      if (current.empty() && !after_index) {
        throw std::invalid_argument(i == 0 ? std::string("it begins with '.'")
                                    : i == path.size()
                                        ? std::string("it ends with '.'")
                                        : fmt::format("an empty key before the '.' at character {}", i + 1));
      }
      if (!current.empty()) out.push_back({current, std::nullopt});
      current.clear();
      after_index = false;
    } else if (c == '[') {
      if (current.empty() && !after_index)
        throw std::invalid_argument(fmt::format("'[' at character {} follows no key", i + 1));
      if (!current.empty()) out.push_back({current, std::nullopt});
      current.clear();
      const auto close = path.find(']', i);
      if (close == std::string::npos) throw std::invalid_argument("missing ']'");
      std::size_t idx = 0;
      const auto* first = path.data() + i + 1;
      const auto* last = path.data() + close;
      auto [ptr, ec] = std::from_chars(first, last, idx);
      if (ec != std::errc{} || ptr != last) throw std::invalid_argument("index is not a number");
      out.push_back({"", idx});
      i = close;
      after_index = true;
    } else if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
      throw std::invalid_argument(fmt::format("a control character at character {}", i + 1));
    } else if (c == ']') {
      throw std::invalid_argument("']' without '['");
    } else {
      current += c;
    }
  }
  return out;
}

// How messages name an override: as it was written, a long value cut short.
std::string override_origin(const Override& o) {
  return fmt::format("--set {}={}", excerpt(o.path, 80), excerpt(o.value, 80));
}

// Applies one override to the document. Returns the key path it set in the
// reader's spelling (`ccps[0].capital` for `ccps.CCP_A.capital`), or nullopt
// after recording why it could not be applied.
std::optional<std::string> apply_override(YAML::Node root, const Override& o, Diagnostics& diagnostics) {
  const std::string origin = override_origin(o);
  const auto fail = [&](const std::string& path, std::string message) {
    diagnostics.error(Location{0, 0, origin}, path, std::move(message));
    return std::nullopt;
  };
  YAML::Node value;
  try {
    value = parse_document(o.value);
  } catch (const ParseFailure& e) {
    return fail(o.path, "the value: " + e.message);
  }
  std::vector<Segment> segments;
  try {
    segments = split_path(o.path);
  } catch (const std::invalid_argument& e) {
    return fail(o.path, std::string("bad key path: ") + e.what());
  }
  if (segments.empty()) return fail(o.path, "empty key path");
  YAML::Node node = root;
  std::string walked;  // as written
  std::string path;    // as the reader spells it
  for (std::size_t s = 0; s < segments.size(); ++s) {
    const Segment& seg = segments[s];
    const bool last = s + 1 == segments.size();
    if (seg.index) {
      walked += fmt::format("[{}]", *seg.index);
      path += fmt::format("[{}]", *seg.index);
      if (!node.IsSequence() || *seg.index >= node.size()) {
        return fail(walked, node.IsSequence() ? fmt::format("no element {}: the list has {} element{}", *seg.index,
                                                            node.size(), node.size() == 1 ? "" : "s")
                                              : fmt::format("expected a list here, found {}", describe_node(node)));
      }
      if (last) {
        node[*seg.index] = value;
        return path;
      }
      node.reset(node[*seg.index]);
      continue;
    }
    walked += (walked.empty() ? "" : ".") + seg.key;
    if (node.IsSequence()) {
      // Select a record of a list by its id.
      std::optional<std::size_t> found;
      std::vector<std::string> ids;
      for (std::size_t i = 0; i < node.size() && !found; ++i) {
        YAML::Node item = node[i];
        if (item.IsMap() && item["id"] && item["id"].IsScalar()) {
          if (item["id"].Scalar() == seg.key) found = i;
          ids.push_back(item["id"].Scalar());
        }
      }
      if (!found) {
        std::string msg = fmt::format("no element with id '{}'", seg.key);
        if (auto guess = closest_match(seg.key, ids); !guess.empty())
          msg += fmt::format(" (did you mean '{}'?)", guess);
        return fail(walked, msg);
      }
      path += fmt::format("[{}]", *found);
      if (last) {
        node[*found] = value;
        return path;
      }
      node.reset(node[*found]);
      continue;
    }
    path += (path.empty() ? "" : ".") + seg.key;
    if (!node.IsMap() && !node.IsNull()) {
      return fail(walked, fmt::format("cannot set a key inside {}", describe_node(node)));
    }
    if (last) {
      node[seg.key] = value;
      return path;
    }
    if (!node[seg.key]) node[seg.key] = YAML::Node(YAML::NodeType::Map);
    YAML::Node child = node[seg.key];
    node.reset(child);
  }
  return path;
}

// ---- cross-reference and domain checks ----------------------------------------

// Largest number of assets whose correlation matrix is checked (an
// eigendecomposition, cubic in the number of assets) and repaired (up to a
// thousand of them).
inline constexpr std::size_t kMaxAssets = 1000;
inline constexpr std::size_t kMaxRepairedAssets = 100;
// Checks across the whole scenario. It also runs when reading found errors, so
// that one pass reports them all; a check whose inputs could not be read is
// skipped rather than reporting a consequence of the first error.
}  // namespace

bool runs_in_time_steps(const Scenario& s) {
  return s.simulation.horizon_days || s.simulation.step_days || s.market.fire_sales;
}

bool uses_settlement_layer(const Scenario& s, const CcpConfig& c) {
  const auto& bridges = s.settlement.bridges;
  const bool on_bridge =
      c.collateral.custody == Custody::kBridge &&
      std::any_of(bridges.begin(), bridges.end(), [&](const BridgeConfig& b) { return b.id == c.collateral.bridge; });
  return (!s.settlement.instant && c.settlement.mode != SettlementMode::kInstant) || on_bridge ||
         !c.collateral.asset.empty() || (c.margin.spiral.has_value() && !runs_in_time_steps(s));
}

namespace {

class Checker {
 public:
  Checker(Scenario& s, const SourceMap& map, Diagnostics& diag, std::vector<std::string>& warnings,
          const std::vector<std::string>& unread)
      : s_(s), map_(map), diag_(diag), warnings_(warnings), read_errors_(unread) {
    for (const auto& d : diag.errors()) read_errors_.push_back(d.path);
  }

  void run() {
    if (diag_.truncated()) return;
    unique_ids("market.assets", s_.market.assets, "asset", assets_);
    unique_ids("ccps", s_.ccps, "CCP", ccps_);
    unique_ids("members", s_.members, "member", members_);
    unique_ids("market.options", s_.market.options, "option", options_);
    assets_ok_ = list_read("market.assets");
    options_ok_ = list_read("market.options");
    ccps_ok_ = list_read("ccps");
    members_ok_ = list_read("members");
    check_correlation();
    check_market();
    check_ccps();
    check_members();
    check_trades();
    check_links();
    check_defaults();
    check_settlement();
    check_time_steps();
    check_time_step_mechanisms();
    check_interbank();
  }

 private:
  void error(const std::string& path, std::string message) {
    const Location where = map_.find(path);
    diag_.error(where, path, std::move(message));
  }

  // No value at or below `path` failed to read.
  bool read(std::string_view path) const {
    for (const auto& p : read_errors_) {
      if (path_within(p, path)) return false;
    }
    return true;
  }

  // The ids of a list were all read: no error on the list itself, on an
  // element (`list[3]`: not a mapping) or on an element's id.
  bool list_read(std::string_view list) const {
    for (std::string_view p : read_errors_) {
      if (p == list) return false;
      if (p.size() <= list.size() + 1 || p.substr(0, list.size()) != list || p[list.size()] != '[') continue;
      p.remove_prefix(list.size() + 1);
      const auto close = p.find(']');
      if (close == std::string_view::npos || close == 0) continue;
      if (p.substr(0, close).find_first_not_of("0123456789") != std::string_view::npos) continue;
      p.remove_prefix(close + 1);
      if (p.empty() || p == ".id") return false;
    }
    return true;
  }

  template <class T>
  void unique_ids(const std::string& list, const std::vector<T>& items, std::string_view what,
                  std::map<std::string, std::size_t>& index) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string& id = items[i].id;
      if (id.empty()) continue;  // already reported as missing
      auto [it, inserted] = index.emplace(id, i);
      if (!inserted && !diag_.full()) {
        const Location first = map_.find(fmt::format("{}[{}].id", list, it->second));
        error(fmt::format("{}[{}].id", list, i),
              fmt::format("duplicate {} id '{}' (first defined {})", what, excerpt(id),
                          first.line > 0 ? fmt::format("at line {}", first.line) : "by " + first.origin));
      }
    }
  }

  // `id` names an element of a list (`index`); `list_ok` says its ids were read.
  void reference(const std::string& path, const std::string& id, const std::map<std::string, std::size_t>& index,
                 bool list_ok, std::string_view what) {
    if (index.count(id) || !list_ok || diag_.full()) return;
    std::vector<std::string> names;
    for (const auto& [k, v] : index) names.push_back(k);
    std::string msg = fmt::format("unknown {} '{}'", what, excerpt(id));
    if (auto guess = closest_match(id, names); !guess.empty()) {
      msg += fmt::format(" (did you mean '{}'?)", guess);
    } else if (names.empty()) {
      msg += fmt::format(" (no {}s are defined)", what);
    } else if (names.size() <= 10) {
      msg += fmt::format(" (known: {})", fmt::join(names, ", "));
    }
    error(path, msg);
  }
  void asset_ref(const std::string& path, const std::string& id) { reference(path, id, assets_, assets_ok_, "asset"); }
  // A position names an asset or an option.
  void instrument_ref(const std::string& path, const std::string& id) {
    if (options_.empty()) return asset_ref(path, id);
    std::map<std::string, std::size_t> both = assets_;
    both.insert(options_.begin(), options_.end());
    reference(path, id, both, assets_ok_ && options_ok_, "asset or option");
  }
  void ccp_ref(const std::string& path, const std::string& id) { reference(path, id, ccps_, ccps_ok_, "CCP"); }
  void member_ref(const std::string& path, const std::string& id) {
    // Generated members can be named too (defaults, per-member PDs), by their
    // id's form: checked without making the ids, in a time independent of
    // their number.
    if (s_.generator && read("generator") && generated_member_index(*s_.generator, id)) return;
    reference(path, id, members_, members_ok_, "member");
  }

  void check_correlation() {
    CorrelationConfig& c = s_.market.correlation;
    const std::size_t n = s_.market.assets.size();
    if (!assets_ok_ || !read("market.correlation")) return;
    if (n > kMaxAssets) {
      error("market.assets", fmt::format("expected at most {} assets, found {}", kMaxAssets, n));
      return;
    }
    const std::size_t before = diag_.size();
    Eigen::MatrixXd r;
    if (!c.matrix.empty()) {
      if (!c.pairs.empty()) error("market.correlation.pairs", "give either a full matrix or pairs, not both");
      if (c.matrix.size() != n) {
        error("market.correlation.matrix",
              fmt::format("expected a {0}x{0} matrix (one row per asset), found {1} rows", n, c.matrix.size()));
        return;
      }
      r.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
      for (std::size_t i = 0; i < n; ++i) {
        if (c.matrix[i].size() != n) {
          error(fmt::format("market.correlation.matrix[{}]", i),
                fmt::format("expected a row of {} numbers, found {}", n, c.matrix[i].size()));
          return;
        }
        for (std::size_t j = 0; j < n; ++j)
          r(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = c.matrix[i][j];
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (c.matrix[i][i] != 1.0)
          error(fmt::format("market.correlation.matrix[{}][{}]", i, i),
                fmt::format("expected 1 on the diagonal, found {}", format_number(c.matrix[i][i])));
        for (std::size_t j = 0; j < i; ++j) {
          if (c.matrix[i][j] != c.matrix[j][i])
            error(fmt::format("market.correlation.matrix[{}][{}]", i, j),
                  fmt::format("matrix is not symmetric: [{0}][{1}] = {2} but [{1}][{0}] = {3}", i, j,
                              format_number(c.matrix[i][j]), format_number(c.matrix[j][i])));
        }
      }
      if (diag_.size() != before) return;
    } else {
      if (c.default_value == 0.0 && c.pairs.empty()) return;  // identity
      r = Eigen::MatrixXd::Constant(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n), c.default_value);
      r.diagonal().setOnes();
      for (std::size_t p = 0; p < c.pairs.size(); ++p) {
        const auto& pair = c.pairs[p];
        if (pair.between.size() != 2) continue;
        const std::string path = fmt::format("market.correlation.pairs[{}].between", p);
        bool ok = true;
        for (std::size_t k = 0; k < 2; ++k) {
          if (!assets_.count(pair.between[k])) {
            asset_ref(fmt::format("{}[{}]", path, k), pair.between[k]);
            ok = false;
          }
        }
        if (!ok) continue;
        const auto i = static_cast<Eigen::Index>(assets_.at(pair.between[0]));
        const auto j = static_cast<Eigen::Index>(assets_.at(pair.between[1]));
        if (i == j) {
          error(path, "a pair needs two different assets");
          continue;
        }
        r(i, j) = r(j, i) = pair.value;
      }
    }
    const double lambda = models::min_eigenvalue(r);
    if (lambda >= -1e-10) return;
    if (c.repair == MatrixRepair::kNearestPsd && n > kMaxRepairedAssets) {
      error("market.correlation.repair",
            fmt::format("repair: nearest_psd handles at most {} assets, found {}; give a positive semi-definite "
                        "matrix (smallest eigenvalue now {:.6g})",
                        kMaxRepairedAssets, n, lambda));
      return;
    }
    if (c.repair == MatrixRepair::kNearestPsd) {
      const Eigen::MatrixXd fixed = models::nearest_correlation(r);
      warnings_.push_back(fmt::format(
          "market.correlation: the correlation matrix is not positive semi-definite (smallest eigenvalue {:.6g}); "
          "replaced by the nearest correlation matrix (Frobenius distance {:.6g})",
          lambda, (fixed - r).norm()));
      c.matrix.assign(n, std::vector<double>(n));
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
          c.matrix[i][j] = fixed(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      c.pairs.clear();
      c.default_value = 0.0;
      return;
    }
    error(c.matrix.empty() ? "market.correlation" : "market.correlation.matrix",
          fmt::format("the correlation matrix is not positive semi-definite (smallest eigenvalue {:.6g}); fix it or "
                      "set market.correlation.repair: nearest_psd",
                      lambda));
  }

  void check_market() {
    const auto& shocks = s_.market.shocks;
    if (shocks.jumps) {
      for (const auto& [asset, beta] : shocks.jumps->beta) asset_ref("market.shocks.jumps.beta." + asset, asset);
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < s_.market.stress_scenarios.size(); ++i) {
      const auto& st = s_.market.stress_scenarios[i];
      const std::string path = fmt::format("market.stress_scenarios[{}]", i);
      if (!st.name.empty() && !names.insert(st.name).second)
        error(path + ".name", fmt::format("duplicate stress scenario name '{}'", st.name));
      for (const auto& [asset, move] : st.moves) asset_ref(path + ".moves." + asset, asset);
      for (std::size_t d = 0; d < st.path.size(); ++d)
        for (const auto& [asset, move] : st.path[d]) asset_ref(fmt::format("{}.path[{}].{}", path, d, asset), asset);
      if (!read(path)) continue;
      if (st.moves.empty() && st.path.empty() && st.vol_moves.empty() && st.halted_chains.empty() &&
          st.exploited_bridges.empty())
        error(path, "expected moves (over days) or path (day by day), found neither");
      if (!st.moves.empty() && !st.path.empty())
        error(path + ".path", "expected moves (over days) or path (day by day), found both");
      if (!st.path.empty() && st.days != 1.0 && st.days != static_cast<double>(st.path.size()))
        error(path + ".days",
              fmt::format("expected no days or the path's length ({}), found {}", st.path.size(), st.days));
      for (const auto& [asset, move] : st.vol_moves) asset_ref(path + ".vol_moves." + asset, asset);
      if (st.overlay && !st.vol_moves.empty() && read(path + ".overlay"))
        error(path + ".vol_moves", "implied-vol moves apply to deterministic scenarios, not overlays");
    }
    for (std::size_t i = 0; i < s_.market.options.size(); ++i) {
      const OptionConfig& option = s_.market.options[i];
      const std::string path = fmt::format("market.options[{}]", i);
      if (const auto it = assets_.find(option.id); it != assets_.end() && assets_ok_)
        error(path + ".id", fmt::format("option id '{}' is already the id of an asset (market.assets[{}])",
                                        excerpt(option.id), it->second));
      if (read(path + ".underlying")) asset_ref(path + ".underlying", option.underlying);
    }
  }

  void check_ccps() {
    for (std::size_t c = 0; c < s_.ccps.size(); ++c) {
      const CcpConfig& ccp = s_.ccps[c];
      const std::string path = fmt::format("ccps[{}]", c);
      if (const auto* tiered = std::get_if<TieredMargin>(&ccp.margin.model); tiered && read(path + ".margin")) {
        for (std::size_t t = 1; t < tiered->tiers.size(); ++t) {
          if (!(tiered->tiers[t].up_to > tiered->tiers[t - 1].up_to))
            error(fmt::format("{}.margin.tiers[{}].up_to", path, t),
                  fmt::format("tiers must be in increasing order of up_to: {} after {}",
                              format_number(tiered->tiers[t].up_to), format_number(tiered->tiers[t - 1].up_to)));
        }
        check_maintenance(ccp, *tiered, path);
      }
      if (!ccp.insurance_fund_asset.empty() && read(path + ".insurance_fund_asset"))
        asset_ref(path + ".insurance_fund_asset", ccp.insurance_fund_asset);
      if (ccp.default_fund.sizing == DefaultFundSizing::kFixed && !ccp.default_fund.amount &&
          read(path + ".default_fund"))
        error(path + ".default_fund", "sizing: fixed needs an amount");
      if (ccp.default_fund.variant == CoverVariant::kBoe && ccp.default_fund.sizing != DefaultFundSizing::kCover2 &&
          read(path + ".default_fund"))
        error(path + ".default_fund.variant",
              fmt::format("variant: boe sizes a cover2 fund, found sizing: {}", enum_name(ccp.default_fund.sizing)));
      if (ccp.waterfall && read(path + ".waterfall")) {
        std::set<LayerKind> seen;
        for (std::size_t l = 0; l < ccp.waterfall->size(); ++l) {
          if (!seen.insert((*ccp.waterfall)[l]).second)
            error(fmt::format("{}.waterfall[{}]", path, l),
                  fmt::format("layer '{}' appears twice", enum_name((*ccp.waterfall)[l])));
          // ADL closes positions at a bankruptcy price; a lending protocol's
          // losses are bad debt on loans, which its lenders bear.
          if ((*ccp.waterfall)[l] == LayerKind::kAdl && ccp.kind == CcpKind::kLendingProtocol)
            error(fmt::format("{}.waterfall[{}]", path, l),
                  "layer 'adl' deleverages positions and a lending protocol's losses are bad debt on loans: use "
                  "lender_haircut");
        }
      }
      if (ccp.lending && ccp.kind != CcpKind::kLendingProtocol && read(path + ".lending") && read(path + ".kind"))
        error(path + ".lending",
              fmt::format("lending applies to kind lending_protocol, found kind: {}", enum_name(ccp.kind)));
      if (ccp.lending && read(path + ".lending")) check_lending(*ccp.lending, path + ".lending");
      if (ccp.minimum_capital && *ccp.minimum_capital > ccp.capital && read(path + ".minimum_capital") &&
          read(path + ".capital"))
        error(path + ".minimum_capital",
              fmt::format("minimum capital {} exceeds the CCP's capital {}: EMIR art. 16 requires a CCP to hold at "
                          "least its minimum capital",
                          format_number(*ccp.minimum_capital), format_number(ccp.capital)));
      if (ccp.minimum_capital && ccp.sitg_basis == SitgBasis::kCapital && read(path + ".minimum_capital") &&
          read(path + ".sitg_basis"))
        error(path + ".sitg_basis", "sitg_basis: capital ignores the minimum_capital given; remove one of them");
      if (ccp.sitg && *ccp.sitg > ccp.capital && read(path + ".sitg") && read(path + ".capital"))
        error(path + ".sitg", fmt::format("skin in the game {} exceeds the CCP's capital {}", format_number(*ccp.sitg),
                                          format_number(ccp.capital)));
    }
  }

  // Maintenance rates: on every tier or none, at most the tier's IM rate, at
  // a crypto venue (its liquidation engine).
  void check_maintenance(const CcpConfig& ccp, const TieredMargin& tiered, const std::string& path) {
    const auto given = static_cast<std::size_t>(
        std::count_if(tiered.tiers.begin(), tiered.tiers.end(), [](const MarginTier& t) { return t.mm.has_value(); }));
    if (given == 0) return;
    for (std::size_t t = 0; t < tiered.tiers.size(); ++t) {
      const std::string p = fmt::format("{}.margin.tiers[{}]", path, t);
      if (!tiered.tiers[t].mm) {
        error(p, "a maintenance rate (mm) on some tiers needs one on every tier");
      } else if (*tiered.tiers[t].mm > tiered.tiers[t].im) {
        error(p + ".mm", fmt::format("the maintenance rate {} exceeds the tier's initial margin rate {}",
                                     format_number(*tiered.tiers[t].mm), format_number(tiered.tiers[t].im)));
      }
    }
    if (ccp.kind != CcpKind::kCryptoVenue && read(path + ".kind"))
      error(path + ".margin.tiers[0].mm",
            fmt::format("maintenance rates run a crypto venue's liquidation engine: they apply to kind crypto_venue, "
                        "found kind: {}",
                        enum_name(ccp.kind)));
  }

  // Assets named once each; e-mode categories with distinct ids, an asset and
  // a member in at most one of them.
  void check_lending(const LendingConfig& lending, const std::string& path) {
    std::map<std::string, std::size_t> listed;
    for (std::size_t i = 0; i < lending.assets.size(); ++i) {
      const std::string p = fmt::format("{}.assets[{}].id", path, i);
      asset_ref(p, lending.assets[i].id);
      if (const auto [it, fresh] = listed.emplace(lending.assets[i].id, i); !fresh && !diag_.full())
        error(p, fmt::format("asset '{}' is listed twice (also {}.assets[{}])", excerpt(lending.assets[i].id), path,
                             it->second));
    }
    std::map<std::int64_t, std::size_t> ids;
    std::map<std::string, std::string> asset_in, member_in;
    for (std::size_t k = 0; k < lending.emode.size(); ++k) {
      const EModeConfig& e = lending.emode[k];
      const std::string p = fmt::format("{}.emode[{}]", path, k);
      if (const auto [it, fresh] = ids.emplace(e.id, k); !fresh && read(p + ".id"))
        error(p + ".id", fmt::format("duplicate e-mode category id {} (also {}.emode[{}])", e.id, path, it->second));
      const auto once = [&](std::map<std::string, std::string>& seen, const std::string& id, const std::string& at,
                            std::string_view what) {
        if (const auto [it, fresh] = seen.emplace(id, at); !fresh && !diag_.full())
          error(at, fmt::format("{} '{}' is in two e-mode categories (also {})", what, excerpt(id), it->second));
      };
      for (std::size_t i = 0; i < e.assets.size(); ++i) {
        const std::string at = fmt::format("{}.assets[{}]", p, i);
        asset_ref(at, e.assets[i]);
        once(asset_in, e.assets[i], at, "asset");
      }
      for (std::size_t i = 0; i < e.members.size(); ++i) {
        const std::string at = fmt::format("{}.members[{}]", p, i);
        member_ref(at, e.members[i]);
        once(member_in, e.members[i], at, "member");
      }
    }
  }

  void check_members() {
    for (std::size_t m = 0; m < s_.members.size(); ++m) {
      MemberConfig& member = s_.members[m];
      const std::string path = fmt::format("members[{}]", m);
      for (const auto& [ccp, book] : member.positions) {
        ccp_ref(path + ".positions." + ccp, ccp);
        for (const auto& [instrument, qty] : book) {
          const std::string p = path + ".positions." + ccp + "." + instrument;
          if (const auto option = options_.find(instrument); option != options_.end()) {
            check_position_value(p, s_.market.options[option->second].underlying, qty);
            continue;
          }
          instrument_ref(p, instrument);
          check_position_value(p, instrument, qty);
        }
      }
      for (const auto* observed : {&member.initial_margin, &member.default_fund, &member.maintenance_margin}) {
        const char* key = observed == &member.initial_margin ? "initial_margin"
                          : observed == &member.default_fund ? "default_fund"
                                                             : "maintenance_margin";
        for (const auto& [ccp, amount] : *observed) {
          const std::string p = fmt::format("{}.{}.{}", path, key, ccp);
          ccp_ref(p, ccp);
          bool member_there = false;
          for (const auto& pos : member.positions) member_there = member_there || pos.first == ccp;
          if (ccps_.count(ccp) && !member_there && read(path + ".positions"))
            error(p, fmt::format("member '{}' has no positions at CCP '{}'", member.id, ccp));
        }
      }
      for (const auto& [ccp, amount] : member.maintenance_margin) {
        const auto it = ccps_.find(ccp);
        if (it != ccps_.end() && s_.ccps[it->second].kind != CcpKind::kCryptoVenue &&
            read(fmt::format("ccps[{}].kind", it->second)))
          error(fmt::format("{}.maintenance_margin.{}", path, ccp),
                fmt::format("a maintenance margin runs a crypto venue's liquidation engine: CCP '{}' is of kind {}",
                            ccp, enum_name(s_.ccps[it->second].kind)));
      }
      check_clients(member, path);
      if (member.group.empty()) member.group = member.id;
    }
    // Generated ids repeat no listed member's (known by their form, as in member_ref).
    if (s_.generator && read("generator"))
      for (const auto& member : s_.members) {
        if (generated_member_index(*s_.generator, member.id) && !diag_.full())
          error("generator.id_prefix",
                fmt::format("generated member id '{}' is already the id of a listed member", member.id));
        check_generated_client_id(member.id, "member");
        for (const auto& client : member.clients) check_generated_client_id(client.id, "client");
      }
  }

  // A generated client's id is a generated member's and C1 .. C<generator.clients>.
  void check_generated_client_id(const std::string& id, std::string_view listed) {
    const GeneratorConfig& g = *s_.generator;
    const std::size_t c = id.rfind('C');
    if (g.clients == 0 || c == std::string::npos || c + 1 == id.size() || diag_.full()) return;
    std::int64_t k = 0;
    for (const char d : id.substr(c + 1)) {
      if (d < '0' || d > '9' || k > g.clients) return;
      k = 10 * k + (d - '0');
    }
    if (id[c + 1] != '0' && k >= 1 && k <= g.clients && generated_member_index(g, id.substr(0, c)))
      error("generator.clients", fmt::format("generated client id '{}' is already the id of a listed {}", id, listed));
  }

  // A book of positions {CCP: {instrument: quantity}} at `path`.
  void check_book(const std::string& path, const OrderedMap<OrderedMap<double>>& book) {
    for (const auto& [ccp, positions] : book) {
      ccp_ref(path + "." + ccp, ccp);
      for (const auto& [instrument, qty] : positions) {
        const std::string p = path + "." + ccp + "." + instrument;
        if (const auto option = options_.find(instrument); option != options_.end()) {
          check_position_value(p, s_.market.options[option->second].underlying, qty);
          continue;
        }
        instrument_ref(p, instrument);
        check_position_value(p, instrument, qty);
      }
    }
  }

  // Client accounts (members[].clients): ids unique among clients and members,
  // books at traditional CCPs, observed margins where the client has
  // positions, backups other members named once each.
  void check_clients(const MemberConfig& member, const std::string& path) {
    for (std::size_t k = 0; k < member.clients.size(); ++k) {
      const ClientConfig& client = member.clients[k];
      const std::string p = fmt::format("{}.clients[{}]", path, k);
      if (!client.id.empty() && read(p + ".id") && !diag_.full()) {
        const bool generated = s_.generator && read("generator") && generated_member_index(*s_.generator, client.id);
        if (members_.count(client.id) || generated) {
          error(p + ".id", fmt::format("expected a client id that is no member's, found member id '{}'", client.id));
        } else if (const auto [it, fresh] = clients_.emplace(client.id, p); !fresh) {
          error(p + ".id", fmt::format("duplicate client id '{}' (also {})", excerpt(client.id), it->second));
        }
      }
      check_book(p + ".positions", client.positions);
      for (const auto& [ccp, book] : client.positions) {
        const auto it = ccps_.find(ccp);
        if (it != ccps_.end() && s_.ccps[it->second].kind != CcpKind::kTraditional &&
            read(fmt::format("ccps[{}].kind", it->second)))
          error(p + ".positions." + ccp,
                fmt::format("expected a traditional CCP for client clearing, found CCP '{}' of kind {}", ccp,
                            enum_name(s_.ccps[it->second].kind)));
      }
      if (client.positions.empty() && read(p + ".positions"))
        error(p + ".positions", "expected positions at one CCP at least, found none");
      for (const auto& observed : client.initial_margin) {
        const std::string& ccp = observed.first;
        ccp_ref(p + ".initial_margin." + ccp, ccp);
        bool there = false;
        for (const auto& pos : client.positions) there = there || pos.first == ccp;
        if (ccps_.count(ccp) && !there && read(p + ".positions"))
          error(p + ".initial_margin." + ccp, fmt::format("client '{}' has no positions at CCP '{}'", client.id, ccp));
      }
      for (std::size_t b = 0; b < client.backup.size(); ++b) {
        const std::string at = fmt::format("{}.backup[{}]", p, b);
        member_ref(at, client.backup[b]);
        if (client.backup[b] == member.id)
          error(at,
                fmt::format("expected a backup other than the client's own clearing member, found '{}'", member.id));
        for (std::size_t e = 0; e < b; ++e)
          if (client.backup[e] == client.backup[b])
            error(at, fmt::format("member '{}' is listed twice (also {}.backup[{}])", client.backup[b], p, e));
      }
    }
  }

  // A position worth more than any market (a price or a quantity in the wrong
  // unit) would overflow the margin and default-fund arithmetic.
  void check_position_value(const std::string& path, const std::string& asset, double quantity,
                            std::string_view what = "position") {
    const auto it = assets_.find(asset);
    if (it == assets_.end() || !read(fmt::format("market.assets[{}].price", it->second)) || !read(path)) return;
    const double price = s_.market.assets[it->second].price;
    if (const auto message = position_value_error(quantity, price, what); !message.empty() && !diag_.full())
      error(path, message);
  }

  // Trades are positions too: the same bound on their value.
  void check_trades() {
    for (std::size_t t = 0; t < s_.trades.size(); ++t) {
      const TradeConfig& trade = s_.trades[t];
      if (read(fmt::format("trades[{}].asset", t)))
        check_position_value(fmt::format("trades[{}].quantity", t), trade.asset, trade.quantity, "trade");
    }
  }

  void check_links() {
    std::set<std::pair<std::string, std::string>> pairs;
    for (std::size_t l = 0; l < s_.links.size(); ++l) {
      const LinkConfig& link = s_.links[l];
      const std::string path = fmt::format("links[{}].between", l);
      if (link.between.size() != 2 || !read(path)) continue;
      ccp_ref(path + "[0]", link.between[0]);
      ccp_ref(path + "[1]", link.between[1]);
      if (link.between[0] == link.between[1]) {
        error(path, fmt::format("a link joins two different CCPs, found '{}' twice", link.between[0]));
        continue;
      }
      auto key = std::minmax(link.between[0], link.between[1]);
      if (!pairs.emplace(key.first, key.second).second)
        error(path, fmt::format("duplicate link between '{}' and '{}'", key.first, key.second));
    }
  }

  void check_defaults() {
    std::map<std::string, std::size_t> listed;
    for (std::size_t i = 0; i < s_.defaults.exogenous.size(); ++i) {
      const std::string& id = s_.defaults.exogenous[i];
      const std::string path = fmt::format("defaults.exogenous[{}]", i);
      member_ref(path, id);
      if (auto [it, inserted] = listed.emplace(id, i); !inserted && !diag_.full())
        error(path, fmt::format("member '{}' is listed twice (also defaults.exogenous[{}])", excerpt(id), it->second));
    }
    if (s_.defaults.latent) {
      for (const auto& [member, pd] : s_.defaults.latent->member_pd)
        member_ref("defaults.latent.member_pd." + member, member);
    }
  }

  // interbank: one source of exposures; per-member external debt names
  // members; alpha and beta belong to rogers_veraart; one period only.
  void check_interbank() {
    if (!s_.interbank || !read("interbank")) return;
    const InterbankConfig& ib = *s_.interbank;
    const int sources = !ib.exposures_file.empty() + !ib.totals_file.empty() + (ib.capital_multiple > 0.0);
    if (sources != 1)
      error("interbank",
            fmt::format("expected one source of exposures (exposures_file, totals_file or capital_multiple > 0), "
                        "found {}",
                        sources));
    for (const auto& [member, debt] : ib.external_debt) member_ref("interbank.external_debt." + member, member);
    for (std::size_t i = 0; i < ib.exclude.size(); ++i)
      member_ref(fmt::format("interbank.exclude[{}]", i), ib.exclude[i]);
    if (ib.clearing != InterbankClearing::kRogersVeraart)
      for (const auto& [key, value] : {std::pair{"alpha", ib.alpha}, std::pair{"beta", ib.beta}})
        if (value != 1.0)
          error(std::string("interbank.") + key,
                fmt::format("expected {} only with clearing: rogers_veraart (default costs), found {} with clearing: "
                            "{}",
                            key, value, enum_name(ib.clearing)));
    if (ib.clearing == InterbankClearing::kRogersVeraart && ib.external_debt_priority == ExternalDebtPriority::kSenior)
      error("interbank.external_debt_priority",
            "expected pari_passu with clearing: rogers_veraart (its default costs are shared pro rata), found senior");
    const SimulationConfig& sim = s_.simulation;
    if (sim.horizon_days || sim.step_days || s_.market.fire_sales)
      error("interbank",
            "expected a scenario in one period with an interbank network, found time steps (simulation.horizon_days, "
            "step_days or market.fire_sales): the network clears within one period only");
  }

  // simulation.horizon_days is a whole number of steps of step_days (at most
  // 1,000 of them); without horizon_days the horizon is the longest MPOR.
  void check_time_steps() {
    const SimulationConfig& sim = s_.simulation;
    if ((!sim.horizon_days && !sim.step_days) || !read("simulation") || !read("ccps")) return;
    double longest = 0.0;
    for (const auto& c : s_.ccps) longest = std::max(longest, c.margin.mpor_days);
    const double horizon = sim.horizon_days.value_or(longest);
    const double step = sim.step_days.value_or(horizon);
    if (!(horizon > 0.0) || !(step > 0.0)) return;
    const double steps = horizon / step;
    const char* at = sim.step_days ? "simulation.step_days" : "simulation.horizon_days";
    if (steps < 1.0 - 1e-9)
      error(at,
            fmt::format("expected a step of at most the horizon ({} days), found a step of {} days", horizon, step));
    else if (std::abs(steps - std::round(steps)) > 1e-9 * steps)
      error(at, fmt::format("expected a step that divides the horizon of {} days into whole steps, found a step of "
                            "{} days ({:.4g} steps)",
                            horizon, step, steps));
    else if (std::round(steps) > 1000.0)
      error(at, fmt::format("expected at most 1000 steps over the horizon, found {} ({} days in steps of {} days)",
                            std::round(steps), horizon, step));
  }

  // Time steps carry margin, funds and defaults from step to step; crypto
  // venues' liquidation engines, lending protocols and the whole settlement
  // layer (chains, liquidity timing, swap timeouts, free-of-payment
  // principal, bridges, collateral assets) run step by step (sim/runner.cpp,
  // sim/settlement.hpp); a margin spiral needs a model that scales with
  // volatility.
  void check_time_step_mechanisms() {
    if (!runs_in_time_steps(s_) || s_.ccps.empty() || !read("ccps") || diag_.full()) return;
    check_margin_recomputed();
  }

  // A stress scenario's exploit_day: with bridges exploited, within the
  // horizon (one period: the exploit is at the start whatever the day).
  void check_exploit_day(const std::string& path, const StressScenario& stress) {
    const std::string at = path + ".exploit_day";
    if (!read(at)) return;
    const double day = *stress.exploit_day;
    if (stress.exploited_bridges.empty())
      error(at, fmt::format("expected exploit_day only with exploited_bridges, found day {:g} and no bridge", day));
    else if (runs_in_time_steps(s_) && s_.simulation.horizon_days && day > *s_.simulation.horizon_days)
      error(at, fmt::format("expected a day within the horizon of {:g} days, found {:g}", *s_.simulation.horizon_days,
                            day));
  }

  // In time steps a CCP with spiral recomputes IM at every step by the EWMA
  // volatility (sim/margin_path.hpp): a model that scales with volatility
  // (parametric, scenario_grid). Historical and tiered models keep today's IM.
  void check_margin_recomputed() {
    for (std::size_t i = 0; i < s_.ccps.size(); ++i) {
      const CcpConfig& c = s_.ccps[i];
      if (!c.margin.spiral) continue;
      const bool historical = std::holds_alternative<HistoricalMargin>(c.margin.model);
      if (!historical && !std::holds_alternative<TieredMargin>(c.margin.model)) continue;
      error(fmt::format("ccps[{}].margin.spiral", i),
            fmt::format("expected spiral only with a parametric or scenario_grid margin model when the scenario runs "
                        "in time steps (IM recomputed each step on the EWMA volatility), found it with the {} model, "
                        "which keeps today's IM",
                        historical ? "historical" : "tiered"));
    }
  }

  // Chains and bridges named by CCPs exist; built-in chains a CCP or asset
  // uses are written into the resolved scenario, so it states every number.
  void check_settlement() {
    SettlementConfig& st = s_.settlement;
    std::map<std::string, std::size_t> chains, bridges;
    unique_ids("settlement.chains", st.chains, "chain", chains);
    unique_ids("settlement.bridges", st.bridges, "bridge", bridges);
    const bool chains_ok = list_read("settlement.chains"), bridges_ok = list_read("settlement.bridges");
    std::vector<ChainConfig> builtin = builtin_chains();
    std::set<std::string> known;
    for (const auto& [id, i] : chains) known.insert(id);
    for (const auto& c : builtin) known.insert(c.id);
    std::map<std::string, std::size_t> known_index;
    for (const auto& id : known) known_index.emplace(id, 0);
    std::set<std::string> used;
    const auto chain_ref = [&](const std::string& path, const std::string& id) {
      if (!known.count(id)) {
        reference(path, id, known_index, chains_ok, "chain");
        return;
      }
      used.insert(id);
    };
    bool any_settles = false;
    for (std::size_t c = 0; c < s_.ccps.size(); ++c) {
      const CcpConfig& ccp = s_.ccps[c];
      const std::string path = fmt::format("ccps[{}]", c);
      const CcpSettlementConfig& cs = ccp.settlement;
      if (cs.mode != SettlementMode::kInstant && read(path + ".settlement")) {
        any_settles = true;
        if (cs.chain.empty()) {
          error(path + ".settlement.chain",
                fmt::format("settlement mode {} needs the chain margin is paid on", enum_name(cs.mode)));
        } else {
          chain_ref(path + ".settlement.chain", cs.chain);
        }
        if (cs.mode == SettlementMode::kBridge) {
          if (cs.bridge.empty()) {
            error(path + ".settlement.bridge", "settlement mode bridge needs a bridge id");
          } else {
            reference(path + ".settlement.bridge", cs.bridge, bridges, bridges_ok, "bridge");
          }
        } else if (!cs.bridge.empty()) {
          error(path + ".settlement.bridge",
                fmt::format("a bridge is used by settlement mode bridge only, found mode {}", enum_name(cs.mode)));
        }
        if (cs.mode == SettlementMode::kL2Optimistic && known.count(cs.chain)) {
          const auto it = std::find_if(st.chains.begin(), st.chains.end(), [&](auto& x) { return x.id == cs.chain; });
          const double challenge =
              it != st.chains.end() ? it->challenge_days : std::find_if(builtin.begin(), builtin.end(), [&](auto& x) {
                                                             return x.id == cs.chain;
                                                           })->challenge_days;
          if (challenge <= 0.0)
            error(path + ".settlement.chain",
                  fmt::format("settlement mode l2_optimistic needs a chain with a challenge period, found '{}' with "
                              "challenge_days 0",
                              cs.chain));
        }
      } else if (cs.mode == SettlementMode::kInstant && !cs.chain.empty() && read(path + ".settlement")) {
        chain_ref(path + ".settlement.chain", cs.chain);
      }
      const CollateralConfig& col = ccp.collateral;
      if (!read(path + ".collateral")) continue;
      if (!col.asset.empty()) asset_ref(path + ".collateral.asset", col.asset);
      if (col.custody == Custody::kBridge) {
        if (col.bridge.empty()) {
          error(path + ".collateral.bridge", "custody bridge needs a bridge id");
        } else {
          reference(path + ".collateral.bridge", col.bridge, bridges, bridges_ok, "bridge");
        }
      } else if (!col.bridge.empty()) {
        error(path + ".collateral.bridge",
              fmt::format("a bridge is named by custody bridge only, found custody {}", enum_name(col.custody)));
      }
      if (col.custody != Custody::kCcp && !ccp.im_segregated && read(path + ".im_segregated"))
        error(path + ".im_segregated",
              fmt::format("custody {} is bankruptcy-remote: im_segregated false contradicts it (use custody ccp)",
                          enum_name(col.custody)));
    }
    for (std::size_t i = 0; i < s_.market.stress_scenarios.size(); ++i) {
      const auto& stress = s_.market.stress_scenarios[i];
      const std::string path = fmt::format("market.stress_scenarios[{}]", i);
      for (std::size_t k = 0; k < stress.halted_chains.size(); ++k)
        chain_ref(fmt::format("{}.halted_chains[{}]", path, k), stress.halted_chains[k]);
      for (std::size_t k = 0; k < stress.exploited_bridges.size(); ++k)
        reference(fmt::format("{}.exploited_bridges[{}]", path, k), stress.exploited_bridges[k], bridges, bridges_ok,
                  "bridge");
      if (stress.overlay && (!stress.halted_chains.empty() || !stress.exploited_bridges.empty()))
        error(path + ".overlay", "halted chains and exploited bridges apply to deterministic scenarios, not overlays");
      if (stress.exploit_day) check_exploit_day(path, stress);
    }
    // Deliveries settle on the asset's chain: it must be known when a CCP settles on chain.
    if (any_settles && assets_ok_) {
      for (std::size_t a = 0; a < s_.market.assets.size(); ++a) {
        const std::string& chain = s_.market.assets[a].chain;
        if (!chain.empty()) chain_ref(fmt::format("market.assets[{}].chain", a), chain);
      }
    }
    for (const auto& c : builtin)
      if (used.count(c.id) && !chains.count(c.id)) st.chains.push_back(c);
  }

  Scenario& s_;
  const SourceMap& map_;
  Diagnostics& diag_;
  std::vector<std::string>& warnings_;
  std::vector<std::string> read_errors_;  // key paths of the values that could not be read
  std::map<std::string, std::size_t> assets_, options_, ccps_, members_;
  std::map<std::string, std::string> clients_;  // client id -> where it is defined
  bool assets_ok_ = true, options_ok_ = true, ccps_ok_ = true, members_ok_ = true;
};

}  // namespace

Override Override::parse(std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    fail_single("--set " + std::string(assignment), Location{}, "",
                "expected KEY.PATH=VALUE, e.g. simulation.scenarios=5000");
  }
  return Override{std::string(assignment.substr(0, eq)), std::string(assignment.substr(eq + 1))};
}

namespace {

// Override::parse without throwing: nullopt for an entry that is not KEY=VALUE.
std::optional<Override> split_assignment(std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  return Override{std::string(assignment.substr(0, eq)), std::string(assignment.substr(eq + 1))};
}

// The overrides that make variant `v` of `s` from its base: the base's own,
// the variant's, then the base's seed and number of scenarios (variants run on
// common random numbers).
std::vector<Override> variant_overrides(const Scenario& s, std::size_t v, const std::vector<Override>& overrides) {
  std::vector<Override> o = overrides;
  for (const auto& assignment : s.variants[v].set) o.push_back(Override::parse(assignment));
  o.push_back({"seed", std::to_string(s.seed)});
  o.push_back({"simulation.scenarios", std::to_string(s.simulation.scenarios)});
  return o;
}

LoadedScenario load_checked(std::string_view text, const std::string& source_name,
                            const std::vector<Override>& overrides, DataAccess access, bool with_variants);

// Each variant of a sound scenario loaded as `ccpnet compare` loads it; its
// errors are reported at the variant's `set` entry that caused them (at the
// variant when no single entry did), as "variants[i].set[k]: key.path: ...".
void check_variants(const LoadedScenario& loaded, const std::vector<Override>& overrides, Diagnostics& diagnostics) {
  const Scenario& s = loaded.scenario;
  const auto error = [&](const std::string& path, std::string message) {
    if (!diagnostics.full()) diagnostics.error(loaded.source_map.find(path), path, std::move(message));
  };
  std::map<std::string, std::size_t> names;
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    const VariantConfig& variant = s.variants[v];
    const std::string path = fmt::format("variants[{}]", v);
    if (variant.name == "base") {
      error(path + ".name", "expected a name other than 'base', which names the scenario itself");
    } else if (auto [it, inserted] = names.emplace(variant.name, v); !inserted) {
      error(path + ".name",
            fmt::format("duplicate variant name '{}' (also variants[{}])", excerpt(variant.name), it->second));
    }
    bool entries_ok = true;
    for (std::size_t k = 0; k < variant.set.size(); ++k) {
      const std::string entry = fmt::format("{}.set[{}]", path, k);
      const auto o = split_assignment(variant.set[k]);
      if (!o) {
        error(entry, fmt::format("expected KEY.PATH=VALUE, e.g. ccps.CCP_A.capital=1e9, found '{}'",
                                 excerpt(variant.set[k], 80)));
        entries_ok = false;
        continue;
      }
      const bool random_numbers =
          path_within(o->path, "seed") || path_within(o->path, "simulation.scenarios") || o->path == "simulation";
      if (random_numbers || path_within(o->path, "variants")) {
        error(entry, fmt::format("expected a key other than seed, simulation.scenarios and variants, found '{}': {}",
                                 excerpt(o->path, 80),
                                 random_numbers ? "variants run on the base scenario's seed and number of scenarios"
                                                : "a variant cannot define variants"));
        entries_ok = false;
      }
    }
    if (!entries_ok) continue;
    try {
      load_checked(loaded.text, loaded.source_name, variant_overrides(s, v, overrides), loaded.data_access, false);
    } catch (const ScenarioError& e) {
      add_variant_errors(loaded, v, e, diagnostics);
    }
  }
}

}  // namespace

LoadedScenario load_scenario_text(std::string_view text, const std::string& source_name,
                                  const std::vector<Override>& overrides, DataAccess access) {
  return load_checked(text, source_name, overrides, access, true);
}

void add_variant_errors(const LoadedScenario& base, std::size_t variant, const ScenarioError& failure,
                        Diagnostics& diagnostics) {
  const VariantConfig& v = base.scenario.variants.at(variant);
  const std::string path = fmt::format("variants[{}]", variant);
  std::vector<std::string> origins;  // where each `set` entry's errors are located
  for (const std::string& entry : v.set) {
    const auto o = split_assignment(entry);
    origins.push_back(o ? override_origin(*o) : std::string());
  }
  for (const Diagnostic& d : failure.diagnostics().errors()) {
    if (diagnostics.full()) return;
    std::string at = path;
    for (std::size_t k = 0; k < origins.size(); ++k)
      if (!origins[k].empty() && d.where.origin == origins[k]) at = fmt::format("{}.set[{}]", path, k);
    std::string message = d.path.empty() ? d.message : d.path + ": " + d.message;
    if (d.where.line > 0)
      message += fmt::format(" ({}line {} with this variant)",
                             d.where.origin.empty() ? "" : excerpt(d.where.origin, 80) + " ", d.where.line);
    diagnostics.error(base.source_map.find(at), at, fmt::format("variant '{}': {}", excerpt(v.name), message));
  }
}

LoadedScenario load_variant(const LoadedScenario& base, std::size_t variant, const std::vector<Override>& overrides) {
  return load_checked(base.text, base.source_name, variant_overrides(base.scenario, variant, overrides),
                      base.data_access, false);
}

namespace {

LoadedScenario load_checked(std::string_view text, const std::string& source_name,
                            const std::vector<Override>& overrides, DataAccess access, bool with_variants) {
  if (text.size() > kMaxScenarioBytes) {
    fail_single(source_name, Location{1, 1, {}}, "",
                fmt::format("file too large: {} bytes, more than the limit of {}", text.size(), kMaxScenarioBytes));
  }
  YAML::Node root = parse_yaml(text, source_name);
  if (!root.IsMap()) {
    fail_single(source_name, location_of(root), "",
                fmt::format("expected a mapping with the keys name, market, ccps, ..., found {}", describe_node(root)));
  }

  LoadedScenario loaded;
  loaded.text = std::string(text);
  loaded.source_name = source_name;
  loaded.data_access = access;
  Diagnostics diagnostics(source_name);

  // Each override applied, with the key path it set in the reader's spelling.
  std::vector<std::pair<std::string, std::string>> applied;  // {path, origin}
  for (const auto& o : overrides) {
    if (auto path = apply_override(root, o, diagnostics)) applied.emplace_back(std::move(*path), override_origin(o));
  }

  SourceMap& source_map = loaded.source_map;
  ReadContext ctx;
  ctx.diagnostics = &diagnostics;
  ctx.source_map = &source_map;
  YamlReader::read_root(ctx, root, loaded.scenario);

  // Values that came from --set are located at the override, not in the file
  // (their YAML marks count from the start of the override's value). Applied
  // in order: a later override wins where two set the same key.
  const auto origin_of = [&](const std::string& path) {
    std::string origin;
    for (const auto& [set_path, set_origin] : applied) {
      if (path_within(path, set_path)) origin = set_origin;
    }
    return origin;
  };
  for (const auto& [set_path, set_origin] : applied) source_map.attribute(set_path, set_origin);
  for (Diagnostic& d : diagnostics.errors()) {
    if (!d.where.origin.empty()) continue;
    if (std::string origin = origin_of(d.path); !origin.empty()) {
      d.where = Location{0, 0, std::move(origin)};
    } else if (d.where.line == 0) {
      // A mapping an override created on its way to its key.
      for (const auto& [set_path, set_origin] : applied) {
        if (path_within(set_path, d.path)) d.where.origin = set_origin;
      }
      if (d.where.origin.empty()) d.where.origin = "<command line>";
    }
  }

  if (!ctx.budget_exhausted) Checker(loaded.scenario, source_map, diagnostics, loaded.warnings, ctx.unread).run();
  // Data files are read once the scenario that names them is sound.
  if (diagnostics.empty()) loaded.data = read_data_files(loaded.scenario, source_name, source_map, diagnostics, access);
  if (diagnostics.empty() && with_variants) check_variants(loaded, overrides, diagnostics);
  if (!diagnostics.empty()) throw ScenarioError(std::move(diagnostics));
  return loaded;
}

}  // namespace

LoadedScenario load_scenario_file(const std::string& path, const std::vector<Override>& overrides, DataAccess access) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    fail_single(path, Location{}, "", "cannot open the file: no such file");
  }
  if (ec) fail_single(path, Location{}, "", "cannot open the file: " + ec.message());
  if (std::filesystem::is_directory(status)) {
    fail_single(path, Location{}, "", "cannot read the file: it is a directory, expected a scenario file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_single(path, Location{}, "", "cannot open the file (permission denied?)");
  // Read in chunks, not by the size the file claims: a pipe or a device has no
  // size, and /dev/zero has no end.
  std::string text;
  std::array<char, 1 << 16> chunk{};
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxScenarioBytes) {
      fail_single(path, Location{1, 1, {}}, "",
                  fmt::format("file too large: more than {} bytes (the limit)", kMaxScenarioBytes));
    }
  }
  if (in.bad()) fail_single(path, Location{}, "", "cannot read the file");
  return load_scenario_text(text, path, overrides, access);
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  if (std::isnan(value)) return ".nan";
  return fmt::format("{}", value);
}

std::string to_yaml(const Scenario& scenario) {
  YAML::Emitter out;
  out.SetIndent(2);
  YamlWriter::write(out, scenario);
  return std::string(out.c_str()) + "\n";
}

std::string with_schema_reference(const std::string& document) {
  const auto begin = document.find(kSchemaBegin);
  const auto end = document.find(kSchemaEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin)
    throw std::runtime_error("the document has no generated key reference markers");
  const auto after_begin = begin + kSchemaBegin.size();
  return document.substr(0, after_begin) + "\n\n" + schema_markdown() + document.substr(end);
}

std::string schema_markdown() {
  std::string out;
  DocWriter w(out);
  w.document("", Scenario{});
  return out;
}

}  // namespace ccpnet::config
