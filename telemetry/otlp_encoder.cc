#include "telemetry/otlp_encoder.h"

#include <string>
#include <type_traits>

namespace latentbus::telemetry {
namespace {

namespace common = ::opentelemetry::proto::common::v1;
namespace trace = ::opentelemetry::proto::trace::v1;

constexpr uint32_t kHasIsRemote = 0x100;  // SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
constexpr uint32_t kIsRemote = 0x200;     // SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK

void SetValue(const AttributeValue& value, common::AnyValue* out) {
  std::visit(
      [out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out->set_string_value(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out->set_bool_value(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out->set_int_value(v);
        } else {
          out->set_double_value(v);
        }
      },
      value);
}

void AddAttributes(const std::vector<Attribute>& attributes,
                   google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
  out->Reserve(static_cast<int>(attributes.size()));
  for (const Attribute& a : attributes) {
    common::KeyValue* kv = out->Add();
    kv->set_key(a.key);
    SetValue(a.value, kv->mutable_value());
  }
}

template <size_t N>
std::string Bytes(const std::array<uint8_t, N>& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), N);
}

bool IsZero(const SpanId& id) {
  for (uint8_t b : id) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace

::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest EncodeSpans(
    const Resource& resource, const SpanData* spans, size_t count) {
  ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  trace::ResourceSpans* rs = request.add_resource_spans();
  AddAttributes(resource.attributes, rs->mutable_resource()->mutable_attributes());
  trace::ScopeSpans* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name(kScopeName);
  ss->mutable_scope()->set_version(kScopeVersion);
  ss->mutable_spans()->Reserve(static_cast<int>(count));
  for (size_t i = 0; i < count; ++i) {
    const SpanData& d = spans[i];
    trace::Span* s = ss->add_spans();
    s->set_trace_id(Bytes(d.context.trace_id));
    s->set_span_id(Bytes(d.context.span_id));
    if (!IsZero(d.parent_span_id)) s->set_parent_span_id(Bytes(d.parent_span_id));
    s->set_flags(d.context.flags | kHasIsRemote | (d.parent_remote ? kIsRemote : 0));
    s->set_name(d.name);
    s->set_kind(static_cast<trace::Span::SpanKind>(d.kind));
    s->set_start_time_unix_nano(static_cast<uint64_t>(d.start_unix_nanos));
    s->set_end_time_unix_nano(static_cast<uint64_t>(d.end_unix_nanos));
    AddAttributes(d.attributes, s->mutable_attributes());
    if (d.error) {
      s->mutable_status()->set_code(trace::Status::STATUS_CODE_ERROR);
      s->mutable_status()->set_message(d.error_message);
    }
  }
  return request;
}

}  // namespace latentbus::telemetry
