'use strict';
// Typed campaign rules: "Add a row" clones the row template of a RowsField (no library).
// The new row gets the next index, and a `formset:added` event so that the admin's SKU
// search (autocomplete.js) starts on its select.
{
    function addRow(container) {
        const total = container.querySelector('.promo-rows-total');
        const index = parseInt(total.value, 10) || 0;
        const button = container.querySelector('.promo-rows-add');
        if (index >= parseInt(button.dataset.max, 10)) {
            return;
        }
        const template = container.querySelector('template.promo-rows-template');
        const tbody = container.querySelector('tbody');
        tbody.insertAdjacentHTML('beforeend', template.innerHTML.replace(/__prefix__/g, String(index)));
        const row = tbody.lastElementChild;
        row.querySelector('.promo-row-number').textContent = String(index + 1);
        total.value = String(index + 1);
        row.dispatchEvent(new CustomEvent('formset:added', {
            bubbles: true,
            detail: {formsetName: container.dataset.rowsPrefix},
        }));
    }

    document.addEventListener('click', (event) => {
        const button = event.target.closest('.promo-rows-add');
        if (button) {
            event.preventDefault();
            addRow(button.closest('.promo-rows'));
        }
    });
}
