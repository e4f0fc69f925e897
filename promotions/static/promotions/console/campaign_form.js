'use strict';
// Campaign form: show the rules section of the chosen kind only. Each section is a fieldset
// with the class `kind-<kind>`; on the change page the kind is fixed and only its section is
// rendered, so there is nothing to toggle.
{
    function showKind(kind) {
        document.querySelectorAll('fieldset[class*="kind-"]').forEach((fieldset) => {
            fieldset.hidden = !fieldset.classList.contains('kind-' + kind);
        });
    }

    function start() {
        const select = document.querySelector('select[name="kind"]');
        if (!select) {
            return;
        }
        showKind(select.value);
        select.addEventListener('change', () => showKind(select.value));
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
}
