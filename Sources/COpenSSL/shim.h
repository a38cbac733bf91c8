#ifndef C_OPENSSL_SHIM_H
#define C_OPENSSL_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

/* Thin EVP wrappers so Swift never juggles OpenSSL contexts or macros. Each returns 1 on success. */

static inline int onboard_sha256(const uint8_t *data, size_t length, uint8_t out[32]) {
    unsigned int outLength = 0;
    return EVP_Digest(data, length, out, &outLength, EVP_sha256(), NULL) == 1 && outLength == 32;
}

/* HMAC over the digest OpenSSL knows by `digest` ("SHA1", "SHA256", "SHA512"); the MAC's length goes to *outLength. */
static inline int onboard_hmac(const char *digest, const uint8_t *key, size_t keyLength,
                               const uint8_t *data, size_t length,
                               uint8_t *out, size_t outCapacity, size_t *outLength) {
    static const uint8_t emptyKey[1] = {0};
    if (keyLength == 0) { key = emptyKey; }
    *outLength = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, key, keyLength, data, length,
                     out, outCapacity, outLength) != NULL;
}

static inline int onboard_hmac_sha256(const uint8_t *key, size_t keyLength,
                                      const uint8_t *data, size_t length, uint8_t out[32]) {
    size_t outLength = 0;
    return onboard_hmac("SHA256", key, keyLength, data, length, out, 32, &outLength) && outLength == 32;
}

static inline int onboard_aes256gcm_seal(const uint8_t key[32], const uint8_t *nonce, size_t nonceLength,
                                         const uint8_t *aad, size_t aadLength,
                                         const uint8_t *plaintext, size_t plaintextLength,
                                         uint8_t *ciphertext, uint8_t tag[16]) {
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int length = 0, ok = context != NULL;
    ok = ok && EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, (int)nonceLength, NULL) == 1;
    ok = ok && EVP_EncryptInit_ex(context, NULL, NULL, key, nonce) == 1;
    ok = ok && (aadLength == 0 || EVP_EncryptUpdate(context, NULL, &length, aad, (int)aadLength) == 1);
    ok = ok && (plaintextLength == 0 ||
                EVP_EncryptUpdate(context, ciphertext, &length, plaintext, (int)plaintextLength) == 1);
    ok = ok && EVP_EncryptFinal_ex(context, ciphertext + (plaintextLength == 0 ? 0 : length), &length) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(context);
    return ok;
}

static inline int onboard_aes256gcm_open(const uint8_t key[32], const uint8_t *nonce, size_t nonceLength,
                                         const uint8_t *aad, size_t aadLength,
                                         const uint8_t *ciphertext, size_t ciphertextLength,
                                         const uint8_t tag[16], uint8_t *plaintext) {
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int length = 0, ok = context != NULL;
    ok = ok && EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, (int)nonceLength, NULL) == 1;
    ok = ok && EVP_DecryptInit_ex(context, NULL, NULL, key, nonce) == 1;
    ok = ok && (aadLength == 0 || EVP_DecryptUpdate(context, NULL, &length, aad, (int)aadLength) == 1);
    ok = ok && (ciphertextLength == 0 ||
                EVP_DecryptUpdate(context, plaintext, &length, ciphertext, (int)ciphertextLength) == 1);
    ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1;
    ok = ok && EVP_DecryptFinal_ex(context, plaintext + (ciphertextLength == 0 ? 0 : length), &length) == 1;
    EVP_CIPHER_CTX_free(context);
    return ok;
}

#endif
