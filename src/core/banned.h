/*
 * banned: functions that are easy to misuse, made compile errors (after git's
 * banned.h). Include it last in every .c file of src/.
 */
#ifndef CONNHUB_CORE_BANNED_H
#define CONNHUB_CORE_BANNED_H

#define BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)
#undef inet_aton
#define inet_aton(x, y) BANNED(inet_aton)

#endif
