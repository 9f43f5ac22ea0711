#include "sim/config/load.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <Eigen/Dense>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

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

// Rejects bytes that cannot be YAML text: NUL and invalid UTF-8.
void check_text(std::string_view text, const std::string& file) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    bool ok = true;
    if (c == 0) {
      ok = false;
    } else if (c < 0x80) {
      len = 1;
    } else if ((c >> 5) == 0x6) {
      len = 2;
    } else if ((c >> 4) == 0xE) {
      len = 3;
    } else if ((c >> 3) == 0x1E) {
      len = 4;
    } else {
      ok = false;
    }
    if (ok && i + len > text.size()) ok = false;
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (!ok) {
      fail_single(file, Location{line, column, {}}, "",
                  fmt::format("not a YAML text file: byte 0x{:02x} is not valid UTF-8 text", c));
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += len;
  }
}

YAML::Node parse_yaml(std::string_view text, const std::string& file) {
  check_text(text, file);
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.size() > 1) {
      fail_single(file, location_of(docs[1]), "", "expected one YAML document, found several ('---' separators)");
    }
    if (docs.empty() || docs[0].IsNull()) {
      fail_single(file, Location{1, 1, {}}, "",
                  "the file is empty: expected a mapping with at least the keys name, market and ccps");
    }
    return docs[0];
  } catch (const YAML::DeepRecursion& e) {
    fail_single(file, Location{e.mark.line + 1, e.mark.column + 1, {}}, "",
                fmt::format("nesting deeper than YAML parser's limit ({} levels)", e.depth()));
  } catch (const YAML::ParserException& e) {
    Location where = e.mark.is_null() ? Location{1, 1, {}} : Location{e.mark.line + 1, e.mark.column + 1, {}};
    fail_single(file, where, "", "invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    fail_single(file, Location{1, 1, {}}, "", std::string("invalid YAML: ") + e.what());
  }
}

// ---- --set overrides --------------------------------------------------------

struct Segment {
  std::string key;
  std::optional<std::size_t> index;
};

std::vector<Segment> split_path(const std::string& path) {
  std::vector<Segment> out;
  std::string current;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    const char c = i < path.size() ? path[i] : '.';
    if (c == '.') {
      if (!current.empty()) out.push_back({current, std::nullopt});
      current.clear();
    } else if (c == '[') {
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
    } else {
      current += c;
    }
  }
  return out;
}

void apply_override(YAML::Node root, const Override& o) {
  const std::string origin = fmt::format("--set {}={}", o.path, o.value);
  YAML::Node value;
  try {
    value = YAML::Load(o.value);
  } catch (const YAML::Exception& e) {
    fail_single(origin, Location{}, o.path, "the value is not valid YAML: " + e.msg);
  }
  std::vector<Segment> segments;
  try {
    segments = split_path(o.path);
  } catch (const std::invalid_argument& e) {
    fail_single(origin, Location{}, o.path, std::string("bad key path: ") + e.what());
  }
  if (segments.empty()) fail_single(origin, Location{}, o.path, "empty key path");
  YAML::Node node = root;
  std::string walked;
  for (std::size_t s = 0; s < segments.size(); ++s) {
    const Segment& seg = segments[s];
    const bool last = s + 1 == segments.size();
    if (seg.index) {
      walked += fmt::format("[{}]", *seg.index);
      if (!node.IsSequence() || *seg.index >= node.size()) {
        fail_single(origin, Location{}, walked,
                    fmt::format("no element {} here (found {})", *seg.index, describe_node(node)));
      }
      if (last) {
        node[*seg.index] = value;
        return;
      }
      node.reset(node[*seg.index]);
      continue;
    }
    walked += (walked.empty() ? "" : ".") + seg.key;
    if (node.IsSequence()) {
      // Select a record of a list by its id.
      bool found = false;
      for (std::size_t i = 0; i < node.size(); ++i) {
        YAML::Node item = node[i];
        if (item.IsMap() && item["id"] && item["id"].IsScalar() && item["id"].Scalar() == seg.key) {
          if (last) {
            node[i] = value;
            return;
          }
          node.reset(item);
          found = true;
          break;
        }
      }
      if (!found) fail_single(origin, Location{}, walked, fmt::format("no element with id '{}'", seg.key));
      continue;
    }
    if (!node.IsMap() && !node.IsNull()) {
      fail_single(origin, Location{}, walked, fmt::format("cannot set a key inside {}", describe_node(node)));
    }
    if (last) {
      node[seg.key] = value;
      return;
    }
    if (!node[seg.key]) node[seg.key] = YAML::Node(YAML::NodeType::Map);
    YAML::Node child = node[seg.key];
    node.reset(child);
  }
}

// ---- cross-reference and domain checks ----------------------------------------

class Checker {
 public:
  Checker(Scenario& s, const SourceMap& map, Diagnostics& diag, std::vector<std::string>& warnings)
      : s_(s), map_(map), diag_(diag), warnings_(warnings) {}

  void run() {
    unique_ids("market.assets", s_.market.assets, "asset", assets_);
    unique_ids("ccps", s_.ccps, "CCP", ccps_);
    unique_ids("members", s_.members, "member", members_);
    check_correlation();
    check_market();
    check_ccps();
    check_members();
    check_links();
    check_defaults();
  }

 private:
  void error(const std::string& path, std::string message) { diag_.error(map_.find(path), path, std::move(message)); }

  template <class T>
  void unique_ids(const std::string& list, const std::vector<T>& items, std::string_view what,
                  std::map<std::string, std::size_t>& index) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string& id = items[i].id;
      if (id.empty()) continue;  // already reported as missing
      auto [it, inserted] = index.emplace(id, i);
      if (!inserted) {
        const Location first = map_.find(fmt::format("{}[{}].id", list, it->second));
        error(fmt::format("{}[{}].id", list, i),
              fmt::format("duplicate {} id '{}' (first defined at line {})", what, id, first.line));
      }
    }
  }

  void reference(const std::string& path, const std::string& id, const std::map<std::string, std::size_t>& index,
                 std::string_view what) {
    if (index.count(id)) return;
    std::vector<std::string> names;
    for (const auto& [k, v] : index) names.push_back(k);
    std::string msg = fmt::format("unknown {} '{}'", what, id);
    if (auto guess = closest_match(id, names); !guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
    error(path, msg);
  }

  void check_correlation() {
    CorrelationConfig& c = s_.market.correlation;
    const std::size_t n = s_.market.assets.size();
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
      if (!diag_.empty()) return;
    } else {
      r = Eigen::MatrixXd::Constant(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n), c.default_value);
      r.diagonal().setOnes();
      for (std::size_t p = 0; p < c.pairs.size(); ++p) {
        const auto& pair = c.pairs[p];
        if (pair.between.size() != 2) continue;
        const std::string path = fmt::format("market.correlation.pairs[{}].between", p);
        bool ok = true;
        for (std::size_t k = 0; k < 2; ++k) {
          if (!assets_.count(pair.between[k])) {
            reference(fmt::format("{}[{}]", path, k), pair.between[k], assets_, "asset");
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
      if (c.default_value == 0.0 && c.pairs.empty()) return;  // identity
    }
    const double lambda = models::min_eigenvalue(r);
    if (lambda >= -1e-10) return;
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
      for (const auto& [asset, beta] : shocks.jumps->beta)
        reference("market.shocks.jumps.beta." + asset, asset, assets_, "asset");
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < s_.market.stress_scenarios.size(); ++i) {
      const auto& st = s_.market.stress_scenarios[i];
      const std::string path = fmt::format("market.stress_scenarios[{}]", i);
      if (!st.name.empty() && !names.insert(st.name).second)
        error(path + ".name", fmt::format("duplicate stress scenario name '{}'", st.name));
      for (const auto& [asset, move] : st.moves) reference(path + ".moves." + asset, asset, assets_, "asset");
    }
  }

  void check_ccps() {
    for (std::size_t c = 0; c < s_.ccps.size(); ++c) {
      const CcpConfig& ccp = s_.ccps[c];
      const std::string path = fmt::format("ccps[{}]", c);
      if (const auto* tiered = std::get_if<TieredMargin>(&ccp.margin.model)) {
        for (std::size_t t = 1; t < tiered->tiers.size(); ++t) {
          if (!(tiered->tiers[t].up_to > tiered->tiers[t - 1].up_to))
            error(fmt::format("{}.margin.tiers[{}].up_to", path, t),
                  fmt::format("tiers must be in increasing order of up_to: {} after {}",
                              format_number(tiered->tiers[t].up_to), format_number(tiered->tiers[t - 1].up_to)));
        }
      }
      if (ccp.default_fund.sizing == DefaultFundSizing::kFixed && !ccp.default_fund.amount)
        error(path + ".default_fund", "sizing: fixed needs an amount");
      if (ccp.waterfall) {
        std::set<LayerKind> seen;
        for (std::size_t l = 0; l < ccp.waterfall->size(); ++l) {
          if (!seen.insert((*ccp.waterfall)[l]).second)
            error(fmt::format("{}.waterfall[{}]", path, l),
                  fmt::format("layer '{}' appears twice", enum_name((*ccp.waterfall)[l])));
        }
      }
      if (ccp.sitg && *ccp.sitg > ccp.capital)
        error(path + ".sitg", fmt::format("skin in the game {} exceeds the CCP's capital {}", format_number(*ccp.sitg),
                                          format_number(ccp.capital)));
    }
  }

  void check_members() {
    for (std::size_t m = 0; m < s_.members.size(); ++m) {
      MemberConfig& member = s_.members[m];
      const std::string path = fmt::format("members[{}]", m);
      for (const auto& [ccp, book] : member.positions) {
        reference(path + ".positions." + ccp, ccp, ccps_, "CCP");
        for (const auto& [asset, qty] : book)
          reference(path + ".positions." + ccp + "." + asset, asset, assets_, "asset");
      }
      for (const auto* observed : {&member.initial_margin, &member.default_fund}) {
        const char* key = observed == &member.initial_margin ? "initial_margin" : "default_fund";
        for (const auto& [ccp, amount] : *observed) {
          const std::string p = fmt::format("{}.{}.{}", path, key, ccp);
          reference(p, ccp, ccps_, "CCP");
          bool member_there = false;
          for (const auto& pos : member.positions) member_there = member_there || pos.first == ccp;
          if (ccps_.count(ccp) && !member_there)
            error(p, fmt::format("member '{}' has no positions at CCP '{}'", member.id, ccp));
        }
      }
      if (member.group.empty()) member.group = member.id;
    }
  }

  void check_links() {
    std::set<std::pair<std::string, std::string>> pairs;
    for (std::size_t l = 0; l < s_.links.size(); ++l) {
      const LinkConfig& link = s_.links[l];
      if (link.between.size() != 2) continue;
      const std::string path = fmt::format("links[{}].between", l);
      reference(path + "[0]", link.between[0], ccps_, "CCP");
      reference(path + "[1]", link.between[1], ccps_, "CCP");
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
    for (std::size_t i = 0; i < s_.defaults.exogenous.size(); ++i)
      reference(fmt::format("defaults.exogenous[{}]", i), s_.defaults.exogenous[i], members_, "member");
    if (s_.defaults.latent) {
      for (const auto& [member, pd] : s_.defaults.latent->member_pd)
        reference("defaults.latent.member_pd." + member, member, members_, "member");
    }
  }

  Scenario& s_;
  const SourceMap& map_;
  Diagnostics& diag_;
  std::vector<std::string>& warnings_;
  std::map<std::string, std::size_t> assets_, ccps_, members_;
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

LoadedScenario load_scenario_text(std::string_view text, const std::string& source_name,
                                  const std::vector<Override>& overrides) {
  if (text.size() > kMaxScenarioBytes) {
    fail_single(source_name, Location{1, 1, {}}, "",
                fmt::format("file too large: {} bytes, the limit is {}", text.size(), kMaxScenarioBytes));
  }
  YAML::Node root = parse_yaml(text, source_name);
  if (!root.IsMap()) {
    fail_single(source_name, location_of(root), "",
                fmt::format("expected a mapping with the keys name, market, ccps, ..., found {}", describe_node(root)));
  }
  for (const auto& o : overrides) apply_override(root, o);

  LoadedScenario loaded;
  loaded.text = std::string(text);
  loaded.source_name = source_name;
  Diagnostics diagnostics(source_name);
  SourceMap& source_map = loaded.source_map;
  ReadContext ctx{&diagnostics, &source_map};
  YamlReader::read_root(ctx, root, loaded.scenario);
  if (diagnostics.empty()) {
    Checker(loaded.scenario, source_map, diagnostics, loaded.warnings).run();
  }
  if (!diagnostics.empty()) {
    // Errors in values that came from --set have no line: name the override.
    Diagnostics located(source_name);
    for (Diagnostic d : diagnostics.errors()) {
      if (d.where.line == 0 && d.where.origin.empty()) {
        for (const auto& o : overrides) {
          if (d.path.rfind(o.path, 0) == 0 || o.path.rfind(d.path, 0) == 0)
            d.where.origin = fmt::format("--set {}={}", o.path, o.value);
        }
        if (d.where.origin.empty()) d.where.origin = "<command line>";
      }
      located.error(d.where, d.path, d.message);
    }
    throw ScenarioError(std::move(located));
  }
  return loaded;
}

LoadedScenario load_scenario_file(const std::string& path, const std::vector<Override>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_single(path, Location{}, "", "cannot open the file");
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) fail_single(path, Location{}, "", "cannot read the file (is it a directory?)");
  if (static_cast<std::size_t>(size) > kMaxScenarioBytes) {
    fail_single(
        path, Location{1, 1, {}}, "",
        fmt::format("file too large: {} bytes, the limit is {}", static_cast<long long>(size), kMaxScenarioBytes));
  }
  in.seekg(0);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) fail_single(path, Location{}, "", "cannot read the file");
  return load_scenario_text(text, path, overrides);
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
