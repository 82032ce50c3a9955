// NTLM's messages (MS-NLMP) as curl writes them: the negotiate message (type 1) with
// curl's flags, the server's challenge (type 2) read, and the answer to it (type 3),
// NTLMv1 or NTLMv2 as the challenge's flags ask. DES, MD4 and HMAC-MD5 come from
// OpenSSL's libcrypto: a build without it, or a libcrypto without DES or MD4, has no NTLM.
#pragma once

#include <opensock/error.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#if OPENSOCK_HAS_TLS
#include <openssl/opensslconf.h>
#if !defined(OPENSSL_NO_DES) && !defined(OPENSSL_NO_MD4)
#define OPENSOCK_NTLM_CRYPTO 1
#include <openssl/des.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md4.h>
#include <openssl/rand.h>
#endif
#endif
#ifndef OPENSOCK_NTLM_CRYPTO
#define OPENSOCK_NTLM_CRYPTO 0
#endif

namespace opensock::detail::ntlm {

/// Whether NTLM can be answered: its DES and MD4 come from libcrypto.
inline constexpr bool supported = OPENSOCK_NTLM_CRYPTO;

// The flags of MS-NLMP §2.2.2.5 this client reads or sends.
inline constexpr std::uint32_t negotiate_unicode = 1u << 0;
inline constexpr std::uint32_t negotiate_oem = 1u << 1;
inline constexpr std::uint32_t request_target = 1u << 2;
inline constexpr std::uint32_t negotiate_ntlm_key = 1u << 9;
inline constexpr std::uint32_t negotiate_always_sign = 1u << 15;
inline constexpr std::uint32_t negotiate_ntlm2_key = 1u << 19;
inline constexpr std::uint32_t negotiate_target_info = 1u << 23;

/// The largest answer curl writes; one whose names do not fit is refused (curl's 100).
inline constexpr std::size_t max_message_size = 1024;

inline constexpr std::string_view signature{"NTLMSSP\0", 8};

/// What an answer needs of the server's challenge.
struct challenge {
  std::uint32_t flags = 0;
  std::array<unsigned char, 8> nonce{};
  std::string target_info;
};

namespace wire {

inline void put16(std::string& out, std::size_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>(v >> 8 & 0xff);
}
inline void put32(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>(v >> shift & 0xff);
}
// A security buffer: length, space (the same) and offset, then two bytes of padding, as
// curl writes its fields.
inline void put_buffer(std::string& out, std::size_t length, std::size_t offset) {
  put16(out, length);
  put16(out, length);
  put16(out, offset);
  put16(out, 0);
}
inline std::uint32_t get16(std::string_view in, std::size_t at) {
  return static_cast<unsigned char>(in[at]) | static_cast<unsigned char>(in[at + 1]) << 8;
}
inline std::uint32_t get32(std::string_view in, std::size_t at) {
  return get16(in, at) | get16(in, at + 2) << 16;
}
// Each byte widened to two, as curl makes "Unicode" of the names and password it is
// given: bytes as they are, which is UTF-16LE for ASCII.
inline std::string widened(std::string_view s, bool upper = false) {
  std::string out;
  out.reserve(2 * s.size());
  for (char c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out += c;
    out += '\0';
  }
  return out;
}

}  // namespace wire

/// The negotiate message curl sends: OEM names, the target asked for, NTLM and NTLM2
/// keys, always sign; no domain and no workstation.
inline std::string negotiate_message() {
  std::string out(signature);
  wire::put32(out, 1);
  wire::put32(out, negotiate_oem | request_target | negotiate_ntlm_key | negotiate_ntlm2_key |
                       negotiate_always_sign);
  wire::put_buffer(out, 0, 0);  // domain
  wire::put_buffer(out, 0, 0);  // workstation
  return out;
}

/// The challenge a type-2 message holds; nullopt when it is not one, or its target
/// information lies outside it (curl: "NTLM handshake failure (bad type-2 message)").
inline std::optional<challenge> read_challenge(std::string_view message) {
  if (message.size() < 32 || message.substr(0, 8) != signature || wire::get32(message, 8) != 2)
    return std::nullopt;
  challenge c;
  c.flags = wire::get32(message, 20);
  for (std::size_t i = 0; i < 8; ++i) c.nonce[i] = static_cast<unsigned char>(message[24 + i]);
  if ((c.flags & negotiate_target_info) && message.size() >= 48) {
    const std::size_t length = wire::get16(message, 40);
    const std::size_t offset = wire::get32(message, 44);
    if (length > 0) {
      if (offset < 48 || offset > message.size() || length > message.size() - offset)
        return std::nullopt;
      c.target_info = message.substr(offset, length);
    }
  }
  return c;
}

#if OPENSOCK_NTLM_CRYPTO
// DES and MD4 are legacy algorithms OpenSSL 3 declares deprecated; their low-level
// functions still work without the legacy provider, which EVP would need.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

// `plain` encrypted with the DES key made of the 56 bits at `key` (7 bytes), parity added.
inline void des_encrypt(const unsigned char* key, const unsigned char* plain, unsigned char* out) {
  DES_cblock k;
  k[0] = key[0];
  for (int i = 1; i < 7; ++i)
    k[i] = static_cast<unsigned char>(key[i - 1] << (8 - i) | key[i] >> i);
  k[7] = static_cast<unsigned char>(key[6] << 1);
  DES_set_odd_parity(&k);
  DES_key_schedule schedule;
  DES_set_key_unchecked(&k, &schedule);
  DES_cblock in;
  for (int i = 0; i < 8; ++i) in[i] = plain[i];
  DES_ecb_encrypt(&in, reinterpret_cast<DES_cblock*>(out), &schedule, DES_ENCRYPT);
}

// The 16-byte NT hash: MD4 of the widened password, padded with zeros to 21 bytes.
inline std::array<unsigned char, 21> nt_hash(std::string_view password) {
  std::array<unsigned char, 21> out{};
  const std::string wide = wire::widened(password);
  MD4(reinterpret_cast<const unsigned char*>(wide.data()), wide.size(), out.data());
  return out;
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

// The LAN Manager hash: the password's first 14 bytes upper-cased, as two DES keys over
// "KGS!@#$%", padded with zeros to 21 bytes.
inline std::array<unsigned char, 21> lm_hash(std::string_view password) {
  std::array<unsigned char, 14> pw{};
  for (std::size_t i = 0; i < pw.size() && i < password.size(); ++i) {
    char c = password[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    pw[i] = static_cast<unsigned char>(c);
  }
  static constexpr unsigned char magic[8] = {'K', 'G', 'S', '!', '@', '#', '$', '%'};
  std::array<unsigned char, 21> out{};
  des_encrypt(pw.data(), magic, out.data());
  des_encrypt(pw.data() + 7, magic, out.data() + 8);
  return out;
}

// NTLMv1's 24-byte response: the nonce under the three DES keys of a 21-byte hash.
inline std::string v1_response(const std::array<unsigned char, 21>& hash,
                               const std::array<unsigned char, 8>& nonce) {
  std::string out(24, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  for (int i = 0; i < 3; ++i) des_encrypt(hash.data() + 7 * i, nonce.data(), bytes + 8 * i);
  return out;
}

inline std::optional<std::string> hmac_md5(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size) ||
      size != 16)
    return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out), size);
}
#endif

/// What answer() writes besides the credentials: the client's 8 random bytes and the
/// time of an NTLMv2 answer, given by a test to check one byte for byte.
struct answer_inputs {
  std::optional<std::array<unsigned char, 8>> client_nonce;
  std::optional<std::chrono::system_clock::time_point> now;
};

/// The answer (type 3) to `c` for `user` (`DOMAIN\user` or `DOMAIN/user` names a domain)
/// with `password`, from the host "WORKSTATION", as curl names every client so as not to
/// tell the server its own name. NTLMv2 when the challenge offers the NTLM2 key, as
/// newer curl answers; NTLMv1's LM and NT responses otherwise. nullopt when the names do
/// not fit in max_message_size bytes (`ec` set to ntlm_message_too_large) or libcrypto
/// fails.
inline std::optional<std::string> answer(const challenge& c, std::string_view user,
                                         std::string_view password, std::error_code& ec,
                                         const answer_inputs& inputs = {}) {
  ec.clear();
#if !OPENSOCK_NTLM_CRYPTO
  (void)c;
  (void)user;
  (void)password;
  (void)inputs;
  return std::nullopt;
#else
  std::string_view domain;
  if (const auto slash = user.find_first_of("\\/"); slash != std::string_view::npos) {
    // curl looks for a backslash first, then a slash.
    const auto backslash = user.find('\\');
    const auto at = backslash != std::string_view::npos ? backslash : slash;
    domain = user.substr(0, at);
    user.remove_prefix(at + 1);
  }
  static constexpr std::string_view host = "WORKSTATION";
  std::uint32_t flags = c.flags;
  std::string lm, nt;
  const auto nt_key = nt_hash(password);
  if (flags & negotiate_ntlm2_key) {
    std::array<unsigned char, 8> client{};
    if (inputs.client_nonce) {
      client = *inputs.client_nonce;
    } else if (RAND_bytes(client.data(), static_cast<int>(client.size())) != 1) {
      return std::nullopt;
    }
    const std::string_view client_bytes(reinterpret_cast<const char*>(client.data()), 8);
    const std::string_view server_bytes(reinterpret_cast<const char*>(c.nonce.data()), 8);
    const auto v2_hash =
        hmac_md5(std::string_view(reinterpret_cast<const char*>(nt_key.data()), 16),
                 wire::widened(user, true) + wire::widened(domain));
    if (!v2_hash) return std::nullopt;
    // The blob: signature, reserved, time in tenths of microseconds since 1601, the
    // client's nonce, four zero bytes, the target information, four zero bytes.
    const auto now = inputs.now.value_or(std::chrono::system_clock::now());
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const auto filetime = static_cast<std::uint64_t>(seconds + 11644473600LL) * 10000000u;
    std::string blob("\x01\x01\0\0\0\0\0\0", 8);
    wire::put32(blob, static_cast<std::uint32_t>(filetime & 0xffffffffu));
    wire::put32(blob, static_cast<std::uint32_t>(filetime >> 32));
    blob.append(client_bytes).append(4, '\0').append(c.target_info).append(4, '\0');
    const auto proof = hmac_md5(*v2_hash, std::string(server_bytes) + blob);
    const auto lm_proof = hmac_md5(*v2_hash, std::string(server_bytes).append(client_bytes));
    if (!proof || !lm_proof) return std::nullopt;
    nt = *proof + blob;
    lm = *lm_proof + std::string(client_bytes);
  } else {
    nt = v1_response(nt_key, c.nonce);
    lm = v1_response(lm_hash(password), c.nonce);
  }

  const bool unicode = (flags & negotiate_unicode) != 0;
  const auto name = [unicode](std::string_view s) {
    return unicode ? wire::widened(s) : std::string(s);
  };
  const std::string domain_bytes = name(domain), user_bytes = name(user), host_bytes = name(host);
  constexpr std::size_t header = 64;
  const std::size_t size =
      header + lm.size() + nt.size() + domain_bytes.size() + user_bytes.size() + host_bytes.size();
  if (size >= max_message_size) {
    ec = error::ntlm_message_too_large;
    return std::nullopt;
  }
  std::string out(signature);
  out.reserve(size);
  wire::put32(out, 3);
  std::size_t offset = header;
  for (const std::size_t length : {lm.size(), nt.size(), domain_bytes.size(), user_bytes.size(),
                                   host_bytes.size()}) {
    wire::put_buffer(out, length, offset);
    offset += length;
  }
  wire::put_buffer(out, 0, 0);  // session key
  wire::put32(out, flags);
  out.append(lm).append(nt).append(domain_bytes).append(user_bytes).append(host_bytes);
  return out;
#endif
}

}  // namespace opensock::detail::ntlm
